package thunderbird

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/endymail/endymail/clients"
)

var _ clients.ReceivedCerts = (*Configurator)(nil)

// Certificates of received signed mail, as Thunderbird keeps them.
//
// Measured with Thunderbird 153 (TestReceivedCertificatesFromThunderbird):
// when it displays a signed message (a local folder, the message pane)
// whose signature verifies, its S/MIME code stores the signer's
// certificate permanently in cert9.db under the nickname of its e-mail
// address, lower case ("bob@example.org"), with no trust of its own (",,");
// Certificate Manager lists it under People. A message whose signer's
// issuer is not trusted for e-mail stores nothing, and neither does a
// parse without display (MsgHdrToMimeMessage with examineEncryptedParts).
// The test drives the real Thunderbird for this, not NSS's cmsutil.
//
// What comes out is checked again, here and by NSS itself, because the
// database also holds what the user or endymail put there and certificates
// stay after they expire or their CA loses trust: see
// [clients.ReceivedCerts] and receivedIn.

// ReceivedCertificates returns the certificates of signed mail received in
// any profile that Thunderbird would encrypt to for address. See
// [clients.ReceivedCerts] for the contract. It reads a private copy of each
// profile's NSS database, so it never writes to the profile and works
// while Thunderbird runs. A profile that has never started (no cert9.db)
// has none; in a profile with an identity for address, the address is the
// user's own and none is returned either.
func (c *Configurator) ReceivedCertificates(ctx context.Context, address string) ([][]*x509.Certificate, error) {
	addr, ok := cleanAddress(address)
	if !ok {
		return nil, fmt.Errorf("%q is not a mail address", address)
	}
	dirs, err := c.profileDirs()
	if err != nil {
		return nil, err
	}
	var tools *nssTools
	var install string
	var out [][]*x509.Certificate
	seen := map[string]bool{}
	for _, dir := range dirs {
		if !fileExists(filepath.Join(dir, certDB)) {
			continue
		}
		if own, err := ownAddress(dir, addr); err != nil || own {
			if err != nil {
				return nil, err
			}
			continue
		}
		if tools == nil {
			if tools, err = findNSS(c.opts.InstallDir); err != nil {
				return nil, err
			}
			if install, err = thunderbirdInstall(c.opts.InstallDir); err != nil {
				return nil, err
			}
		}
		chains, err := receivedIn(ctx, tools, install, dir, addr, c.opts.Now())
		if err != nil {
			return nil, fmt.Errorf("thunderbird profile %s: %w", dir, err)
		}
		for _, ch := range chains {
			if k := string(ch[0].Raw); !seen[k] {
				seen[k] = true
				out = append(out, ch)
			}
		}
	}
	return out, nil
}

// ownAddress reports whether one of the profile's identities uses addr.
func ownAddress(dir, addr string) (bool, error) {
	pf, err := readPrefs(dir)
	if err != nil {
		return false, err
	}
	return len(identitiesFor(pf, addr)) > 0, nil
}

// receivedCert is a certificate for the address found in the database.
type receivedCert struct {
	nick, trust string
	cert        *x509.Certificate
}

// receivedIn finds, in a snapshot of one profile's NSS database, the
// certificates filed under addr, drops the ones that are not from
// received mail or not usable, and verifies the rest with NSS for an
// e-mail recipient, the builtin roots module added as Thunderbird adds it.
func receivedIn(ctx context.Context, tools *nssTools, install, profile, addr string, now time.Time) ([][]*x509.Certificate, error) {
	snap, err := snapshotNSS(profile)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(snap)
	fprs, err := tools.emailFingerprints(ctx, snap, addr)
	if err != nil || len(fprs) == 0 {
		return nil, err
	}
	found, err := findByFingerprint(ctx, tools, snap, addr, fprs)
	if err != nil {
		return nil, err
	}
	found = slices.DeleteFunc(found, func(r receivedCert) bool { return notReceived(r, addr, now) != "" })
	if len(found) == 0 {
		return nil, nil
	}
	if _, err := tools.addBuiltinRoots(ctx, snap, install); err != nil {
		return nil, err
	}
	var out [][]*x509.Certificate
	for _, r := range found {
		err := tools.verifyRecipient(ctx, snap, r.cert.Raw)
		if errors.Is(err, errNotRecipient) {
			continue
		}
		if err != nil {
			return nil, err
		}
		chain, err := chainOf(ctx, tools, snap, r)
		if err != nil {
			return nil, err
		}
		out = append(out, chain)
	}
	return out, nil
}

// findByFingerprint fetches the certificates whose SHA-256 fingerprints
// are in fprs, with their nicknames and trust, looking under the
// nickname Thunderbird gives them (the address) first and then under the
// others, until every one is found. Nicknames endymail gave its
// correspondents' certificates ("endymail peer …") are skipped.
func findByFingerprint(ctx context.Context, tools *nssTools, dir, addr string, fprs map[string]bool) ([]receivedCert, error) {
	trust, err := tools.listing(ctx, dir)
	if err != nil {
		return nil, err
	}
	nicks := make([]string, 0, len(trust))
	for nick := range trust {
		if nick != "" && !strings.HasPrefix(nick, "endymail peer ") {
			nicks = append(nicks, nick)
		}
	}
	slices.SortFunc(nicks, func(a, b string) int {
		ea, eb := strings.EqualFold(a, addr), strings.EqualFold(b, addr)
		if ea != eb {
			if ea {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	var out []receivedCert
	for _, nick := range nicks {
		if len(out) == len(fprs) {
			break
		}
		ders, err := tools.certsByNick(ctx, dir, nick)
		if err != nil {
			return nil, err
		}
		for _, der := range ders {
			sum := sha256.Sum256(der)
			if !fprs[colonHex(sum[:])] || slices.ContainsFunc(out, func(r receivedCert) bool { return string(r.cert.Raw) == string(der) }) {
				continue
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				continue // NSS keeps some certificates Go cannot parse; they are no recipient's
			}
			out = append(out, receivedCert{nick: nick, trust: trust[nick], cert: c})
		}
	}
	return out, nil
}

// notReceived says why r is not a received certificate usable for addr
// ("" when it is): a certificate with a private key is the user's own; a
// leaf trusted for mail directly is what ImportPeers makes of a
// correspondent's certificate (peerTrust) and says nothing about received
// mail; and it must be an end-entity certificate for addr, valid at now,
// allowed for e-mail protection.
func notReceived(r receivedCert, addr string, now time.Time) string {
	fields := strings.Split(r.trust, ",")
	switch {
	case strings.Contains(r.trust, "u"):
		return "own certificate (private key in the profile)"
	case len(fields) == 3 && strings.ContainsAny(fields[1], "CT"):
		return "trusted directly for mail (endymail's import of a correspondent)"
	case r.cert.IsCA:
		return "a CA certificate"
	case !hasEmail(r.cert, addr):
		return "not for " + addr
	case now.Before(r.cert.NotBefore) || now.After(r.cert.NotAfter):
		return "not valid now"
	case !slices.Contains(r.cert.ExtKeyUsage, x509.ExtKeyUsageEmailProtection):
		return "not for e-mail protection"
	}
	return ""
}

// oidEmailAddress is PKCS #9 emailAddress, the legacy subject attribute.
var oidEmailAddress = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}

// hasEmail reports whether c names addr in its subjectAltName rfc822Name
// or its subject's emailAddress, compared case-insensitively.
func hasEmail(c *x509.Certificate, addr string) bool {
	if slices.ContainsFunc(c.EmailAddresses, func(e string) bool { return strings.EqualFold(e, addr) }) {
		return true
	}
	return slices.ContainsFunc(c.Subject.Names, func(n pkix.AttributeTypeAndValue) bool {
		s, ok := n.Value.(string)
		return n.Type.Equal(oidEmailAddress) && ok && strings.EqualFold(s, addr)
	})
}

// chainOf returns r's certificate followed by its issuers as far as the
// database holds them (certutil -O names them), each one checked to have
// issued the one before.
func chainOf(ctx context.Context, tools *nssTools, dir string, r receivedCert) ([]*x509.Certificate, error) {
	chain := []*x509.Certificate{r.cert}
	nicks, err := tools.chainNicks(ctx, dir, r.nick)
	if err != nil {
		return nil, err
	}
	for i := len(nicks) - 2; i >= 0; i-- { // root first; the last is r itself
		child := chain[len(chain)-1]
		if string(child.RawIssuer) == string(child.RawSubject) {
			break
		}
		ders, err := tools.certsByNick(ctx, dir, nicks[i])
		if err != nil {
			return nil, err
		}
		parent := issuerAmong(child, ders)
		if parent == nil {
			break
		}
		chain = append(chain, parent)
	}
	return chain, nil
}

func issuerAmong(child *x509.Certificate, ders [][]byte) *x509.Certificate {
	for _, der := range ders {
		if c, err := x509.ParseCertificate(der); err == nil && child.CheckSignatureFrom(c) == nil {
			return c
		}
	}
	return nil
}
