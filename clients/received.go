package clients

import (
	"context"
	"crypto/x509"
)

// ReceivedCerts is implemented by configurators whose client keeps the
// S/MIME certificates of signed mail the user has received (Thunderbird
// stores a verified signer's certificate in the profile's NSS database).
// It is optional: the agent checks for it with a type assertion and gives
// it to the lookup chain as its last source.
//
// ReceivedCertificates returns the certificate chains (leaf first, then
// the issuers the client holds, as far as it has them) for address that
// the client itself would encrypt to: each leaf names address in its
// subjectAltName rfc822Name or emailAddress (compared case-insensitively),
// is valid now, allows e-mail protection, and verifies for an e-mail
// recipient with the client's own trust settings, checked by the client's
// own certificate code. Never returned: the user's own certificates (those
// with a private key in the client, or for one of the client's own
// identities), and certificates endymail itself imported for a
// correspondent (clients.Contacts' ImportPeers) — the lookup chain must not
// hear its own answers again as evidence.
//
// It never writes to the client and works while the client runs. No
// certificate for the address is an empty result and a nil error. Errors:
// [ErrCorrupt] when the client's certificate store cannot be read; other
// errors (a missing tool, an unreadable file) name what failed.
type ReceivedCerts interface {
	ReceivedCertificates(ctx context.Context, address string) ([][]*x509.Certificate, error)
}
