package certstore

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ErrBadThumbprint reports text that is not a SHA-1 thumbprint.
var ErrBadThumbprint = errors.New("not a SHA-1 certificate thumbprint")

// Thumbprint is the SHA-1 hash of a certificate's DER encoding: the name
// Windows gives a certificate in its stores, in Outlook's security settings
// and in Windows Live Mail's account files.
type Thumbprint [sha1.Size]byte

// ThumbprintOf returns the thumbprint of cert.
func ThumbprintOf(cert *x509.Certificate) Thumbprint { return sha1.Sum(cert.Raw) }

// ParseThumbprint parses 40 hexadecimal digits, either case, optionally
// separated by spaces or colons as certificate dialogs show them.
func ParseThumbprint(s string) (Thumbprint, error) {
	var t Thumbprint
	clean := strings.NewReplacer(" ", "", ":", "").Replace(s)
	if len(clean) != 2*len(t) {
		return t, fmt.Errorf("%w: %q has %d hex digits, want 40", ErrBadThumbprint, s, len(clean))
	}
	if _, err := hex.Decode(t[:], []byte(clean)); err != nil {
		return t, fmt.Errorf("%w: %q: %v", ErrBadThumbprint, s, err)
	}
	return t, nil
}

// String returns the thumbprint as 40 upper-case hex digits, the form
// Windows uses for the store's registry key names.
func (t Thumbprint) String() string { return strings.ToUpper(hex.EncodeToString(t[:])) }

// MarshalText implements encoding.TextMarshaler (the String form), so
// thumbprints read well in JSON.
func (t Thumbprint) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with [ParseThumbprint].
func (t *Thumbprint) UnmarshalText(b []byte) error {
	p, err := ParseThumbprint(string(b))
	if err != nil {
		return err
	}
	*t = p
	return nil
}

// IsZero reports whether t is the zero thumbprint (no certificate).
func (t Thumbprint) IsZero() bool { return t == Thumbprint{} }
