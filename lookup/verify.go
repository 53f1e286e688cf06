package lookup

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/endymail/endymail/mesh/proto"
	"github.com/endymail/endymail/openpgp"
)

// Reasons a source's answer is refused. Each [Rejection] wraps one.
var (
	ErrMalformed   = errors.New("malformed key")
	ErrWrongUserID = errors.New("no user ID of the key matches the address")
	// ErrRevokedUserID: the key's owner revoked every user ID it had for
	// the address (gpg --quick-revoke-uid): it no longer speaks for it.
	ErrRevokedUserID = errors.New("the key's user ID for the address is revoked")
	ErrExpired       = errors.New("key expired or revoked")
	ErrTooLarge      = errors.New("response too large")
	ErrTimeout       = errors.New("source too slow")
	ErrUnverified    = errors.New("publication does not verify against the account log")
)

// checkOpenPGP parses data as exactly one public key for addr, valid at
// now: a user ID for addr that its owner has not revoked at now, and the
// key neither expired nor revoked.
func checkOpenPGP(data []byte, addr string, now time.Time) (*openpgp.Key, error) {
	k, err := openpgp.ParsePublic(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	live, revoked := liveUserIDs(k, now)
	if !hasAddress(live, addr) {
		var gone []string
		for _, r := range revoked {
			if hasAddress([]string{r.ID}, addr) {
				gone = append(gone, fmt.Sprintf("%q (%s)", r.ID, r.Reason))
			}
		}
		if len(gone) > 0 {
			return nil, fmt.Errorf("%w: key %s revoked its user ID %s for %s", ErrRevokedUserID, k.Fingerprint(), strings.Join(gone, ", "), addr)
		}
		return nil, fmt.Errorf("%w: key %s has user IDs %q, want %s", ErrWrongUserID, k.Fingerprint(), k.UserIDs(), addr)
	}
	if k.Expired(now) {
		return nil, fmt.Errorf("%w: key %s at %s", ErrExpired, k.Fingerprint(), now.UTC().Format(time.RFC3339))
	}
	return k, nil
}

// liveUserIDs splits the key's user IDs into those in force at now and
// those its owner revoked.
func liveUserIDs(k *openpgp.Key, now time.Time) (live []string, revoked []openpgp.UserID) {
	for _, id := range k.UserIDsAt(now) {
		if id.Revoked {
			revoked = append(revoked, id)
		} else {
			live = append(live, id.ID)
		}
	}
	return live, revoked
}

// hasAddress reports whether one of the user IDs carries addr (compared
// case-insensitively, as mail domains and most local parts are).
func hasAddress(uids []string, addr string) bool {
	return slices.ContainsFunc(uids, func(uid string) bool {
		a, err := mail.ParseAddress(uid)
		if err != nil {
			a, err = mail.ParseAddress("<" + uid + ">")
		}
		return err == nil && strings.EqualFold(a.Address, addr)
	})
}

// checkSMIME parses a certificate chain (DER, leaf first) whose leaf names
// addr (see certAddresses) and is valid at now; it returns the leaf's SHA-256 fingerprint.
// Senders still verify the chain against their own trust anchors.
func checkSMIME(chain [][]byte, addr string, now time.Time) (string, error) {
	if len(chain) == 0 {
		return "", nil
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return "", fmt.Errorf("%w: S/MIME certificate: %v", ErrMalformed, err)
	}
	child := leaf
	for i, der := range chain[1:] {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return "", fmt.Errorf("%w: S/MIME chain certificate %d: %v", ErrMalformed, i+1, err)
		}
		if err := child.CheckSignatureFrom(c); err != nil {
			return "", fmt.Errorf("%w: S/MIME chain certificate %d did not issue the one before it: %v", ErrMalformed, i+1, err)
		}
		child = c
	}
	if names := certAddresses(leaf); !slices.ContainsFunc(names, func(e string) bool { return strings.EqualFold(e, addr) }) {
		return "", fmt.Errorf("%w: S/MIME certificate names %q, want %s", ErrWrongUserID, names, addr)
	}
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return "", fmt.Errorf("%w: S/MIME certificate valid %s to %s", ErrExpired,
			leaf.NotBefore.UTC().Format(time.DateOnly), leaf.NotAfter.UTC().Format(time.DateOnly))
	}
	sum := sha256.Sum256(chain[0])
	return strings.ToUpper(hex.EncodeToString(sum[:])), nil
}

// oidEmailAddress is PKCS #9 emailAddress, the subject attribute older
// certificates carry their address in.
var oidEmailAddress = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}

// certAddresses are the mail addresses c names: its subjectAltName
// rfc822Names and its subject's emailAddress attributes, both of which
// receiving agents must recognise (RFC 8550 section 3).
func certAddresses(c *x509.Certificate) []string {
	names := slices.Clone(c.EmailAddresses)
	for _, n := range c.Subject.Names {
		if s, ok := n.Value.(string); ok && n.Type.Equal(oidEmailAddress) {
			names = append(names, s)
		}
	}
	return names
}

// verifyMesh checks a /v1/lookup answer: the log replays from genesis, it is
// the account the answer names, the account publishes addr in its current
// state, and the published keys are good for addr. known is the record
// already trusted for addr (nil if none), to refuse a rollback or a fork of
// the same account's log.
func verifyMesh(l proto.Lookup, addr string, known *Record, now time.Time) (*Record, error) {
	st, err := proto.Replay(l.Log)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnverified, err)
	}
	if st.Account != l.Account {
		return nil, fmt.Errorf("%w: log is of account %s, answer names %s", ErrUnverified, st.Account, l.Account)
	}
	if known != nil && known.Source == SourceMesh && known.Account == st.Account {
		if st.Seq < known.Seq {
			return nil, fmt.Errorf("%w: %v: head %d, seen %d", ErrUnverified, proto.ErrRollback, st.Seq, known.Seq)
		}
		if proto.EntryID(l.Log[known.Seq].Payload) != known.Head {
			return nil, fmt.Errorf("%w: %v: entry %d differs from the one seen", ErrUnverified, proto.ErrFork, known.Seq)
		}
	}
	p := st.Published[addr]
	if p == nil {
		return nil, fmt.Errorf("%w: account %s does not publish %s", ErrUnverified, st.Account, addr)
	}
	rec := &Record{Source: SourceMesh, Account: st.Account, Seq: st.Seq, Head: st.Head, SMIME: p.SMIME}
	if len(p.OpenPGP) > 0 {
		k, err := checkOpenPGP(p.OpenPGP, addr, now)
		if err != nil {
			return nil, err
		}
		rec.OpenPGP, rec.Fingerprint = p.OpenPGP, k.Fingerprint()
	}
	if rec.SMIMEFingerprint, err = checkSMIME(p.SMIME, addr, now); err != nil {
		return nil, err
	}
	return rec, nil
}
