// Package certstore puts S/MIME certificates and their private keys into the
// current user's Windows certificate stores, where Outlook and Windows Live
// Mail look for them, and takes them out again.
//
// Use [ImportPFX] to add a PKCS#12 (certificate + key) to CurrentUser\My,
// [CheckKey] to prove the key is usable, [TrustCA] for the account's personal
// CA, and [Delete] to revert. [Thumbprint] is the SHA-1 name Windows and the
// mail clients use for a certificate. Everything works without
// administrator rights. On platforms other than Windows the store functions
// return errors wrapping errors.ErrUnsupported; [Thumbprint] works
// everywhere.
package certstore

import (
	"crypto/x509"
	"errors"
)

// Store names a system certificate store of the current user.
type Store string

// The stores endymail uses.
const (
	// My holds the user's own certificates with private keys ("Personal").
	My Store = "MY"
	// Root holds trusted root authorities. Adding to it makes Windows show
	// its own confirmation dialog.
	Root Store = "Root"
	// CA holds intermediate authorities: chain building uses them, but
	// nothing placed here is trusted as a root.
	CA Store = "CA"
)

var (
	// ErrNotFound reports a certificate that is not in the store.
	ErrNotFound = errors.New("certificate not found in store")
	// ErrNoKey reports a certificate whose private key is missing or
	// does not match it.
	ErrNoKey = errors.New("certificate has no usable private key")
	// ErrTrustDeclined reports that the user answered No to Windows'
	// dialog about trusting the personal CA.
	ErrTrustDeclined = errors.New("user declined to trust the certificate authority")
	// ErrNoLeaf reports a PKCS#12 file without a certificate that has a
	// private key.
	ErrNoLeaf = errors.New("pkcs#12 holds no certificate with a private key")
)

// ImportPFX imports a PKCS#12 file into CurrentUser\My: every certificate
// in it that comes with a private key is added (replacing an earlier copy),
// the key persisted in the user's key store (not marked exportable). It
// returns the thumbprint of the first such certificate. Certificates
// without a key (the chain) are not added; see [TrustCA].
func ImportPFX(pfx []byte, password string) (Thumbprint, error) {
	return importPFX(pfx, password)
}

// Find returns the certificate with thumbprint t from store s, or an error
// wrapping [ErrNotFound].
func Find(s Store, t Thumbprint) (*x509.Certificate, error) { return find(s, t) }

// CheckKey finds the certificate t in My and acquires its private key,
// asking Windows to compare it with the certificate's public key, without
// any user interface. It returns nil when the key is usable, or an error
// wrapping [ErrNotFound] or [ErrNoKey].
func CheckKey(t Thumbprint) error { return checkKey(t) }

// Delete removes the certificate t from store s, together with its private
// key when the store is My. Deleting a missing certificate succeeds.
func Delete(s Store, t Thumbprint) error { return deleteCert(s, t) }

// TrustCA makes the personal CA ca trusted for e-mail by the mail clients
// of the current user, without administrator rights, and returns the store
// it went into.
//
// Why CurrentUser\Root: Outlook and Windows Live Mail verify S/MIME chains
// with CryptoAPI, which accepts only anchors from the Root stores;
// LocalMachine\Root needs administrator rights and the CA and AddressBook
// stores confer no trust. Writing to CurrentUser\Root makes Windows show
// its own "Security Warning: install this certificate?" dialog once; that
// is the user's consent and endymail does not try to avoid it. To limit
// what the personal CA is trusted for, the certificate's
// CERT_ENHKEY_USAGE_PROP_ID property is set to e-mail protection before it
// is added, so Windows never accepts it for TLS or code signing even if
// its key leaks.
//
// A CA already in CurrentUser\Root is left as it is (no second dialog).
// If the user answers No, the CA goes into CurrentUser\CA (chain building
// still finds it; messages show an untrusted issuer) and the error wraps
// [ErrTrustDeclined].
func TrustCA(ca *x509.Certificate) (Store, error) { return trustCA(ca) }

// Add adds cert to store s, replacing an existing copy. With emailOnly the
// certificate's usage in this store is restricted to e-mail protection.
func Add(s Store, cert *x509.Certificate, emailOnly bool) error { return add(s, cert, emailOnly) }
