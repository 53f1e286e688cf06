// Package clients holds what every mail-client configurator shares: the
// [Material] the agent hands over for one address, the [Configurator]
// interface each client package implements, the [Identity] rows that
// `endymail accounts` lists, and the sentinel errors callers branch on.
//
// It is a leaf: it knows nothing of the mesh, nor of how keys are made. The
// conformance suite every configurator passes lives in clients/clienttest.
package clients

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors shared by all configurators. Implementations wrap them with
// %w and a message naming the profile or file concerned.
var (
	// ErrClientRunning means the client is running and would overwrite or
	// miss the change; nothing was written. Retry after it exits.
	ErrClientRunning = errors.New("mail client is running")
	// ErrNoIdentity means no identity in the client uses the address.
	ErrNoIdentity = errors.New("no identity with this address")
	// ErrCorrupt means the client's configuration (or the material) could not
	// be parsed; nothing was written.
	ErrCorrupt = errors.New("corrupt configuration")
)

// Technology preferences for [Material.Prefer].
const (
	PreferOpenPGP = "openpgp"
	PreferSMIME   = "smime"
)

// Material is what the agent hands a configurator for one address.
type Material struct {
	Address string // the mail address, as the user typed it
	Name    string // display name, may be empty
	SMIME   *SMIME // nil when absent
	OpenPGP *OpenPGP
	Prefer  string // PreferOpenPGP (default when empty) or PreferSMIME
}

// SMIME is the S/MIME half of [Material].
type SMIME struct {
	PKCS12   []byte              // key + leaf + chain, go-pkcs12 Modern
	Password string              // PKCS#12 password
	Cert     *x509.Certificate   // the leaf
	Chain    []*x509.Certificate // intermediates up to the personal CA
	CA       *x509.Certificate   // the personal CA, to be trusted for e-mail
}

// OpenPGP is the OpenPGP half of [Material].
type OpenPGP struct {
	Secret      []byte // binary transferable secret key, unprotected
	Public      []byte // binary transferable public key
	Fingerprint string // v4 fingerprint, 40 hex digits upper case
}

// Validate checks the fields every configurator relies on. Its errors wrap
// [ErrCorrupt].
func (m Material) Validate() error {
	at := strings.LastIndexByte(m.Address, '@')
	if at <= 0 || at == len(m.Address)-1 || strings.ContainsAny(m.Address, " \t\r\n<>\",") {
		return badMaterial("address %q is not a mail address", m.Address)
	}
	switch m.Prefer {
	case "", PreferOpenPGP, PreferSMIME:
	default:
		return badMaterial("unknown preference %q", m.Prefer)
	}
	if m.SMIME == nil && m.OpenPGP == nil {
		return badMaterial("neither S/MIME nor OpenPGP material for %s", m.Address)
	}
	if s := m.SMIME; s != nil && (len(s.PKCS12) == 0 || s.Cert == nil || s.CA == nil) {
		return badMaterial("S/MIME material for %s lacks the PKCS#12, certificate or CA", m.Address)
	}
	if p := m.OpenPGP; p != nil {
		if len(p.Secret) == 0 || len(p.Public) == 0 {
			return badMaterial("OpenPGP material for %s lacks the secret or public key", m.Address)
		}
		if !isUpperHex(p.Fingerprint, 40) {
			return badMaterial("OpenPGP fingerprint %q is not 40 upper-case hex digits", p.Fingerprint)
		}
	}
	return nil
}

func isUpperHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

type materialError string

func (e materialError) Error() string { return "invalid material: " + string(e) }
func (e materialError) Unwrap() error { return ErrCorrupt }

func badMaterial(format string, args ...any) error {
	return materialError(fmt.Sprintf(format, args...))
}

// Identity is one sending identity found in a client, for `endymail accounts`.
type Identity struct {
	Client   string // "thunderbird", "outlook", …
	Location string // profile folder or store the identity lives in
	Account  string // the client's account key (e.g. "account1")
	Address  string
	Name     string
	Enabled  bool // endymail has configured this identity
}

// Report says what one Apply or Revert did.
type Report struct {
	Client   string
	Location []string // profiles or stores touched or inspected
	Actions  []string // what was changed, one line each; empty for a no-op
	Deferred []string // parts postponed, with the reason; retry later
	Warnings []string // things that may keep the change from taking effect
}

// Changed reports whether anything was written.
func (r Report) Changed() bool { return len(r.Actions) > 0 }

// Configurator writes end-to-end encryption settings into one kind of mail
// client.
//
// Error contract, for every method: a returned error means nothing was left
// half-written. [ErrClientRunning] when the client must be closed first (the
// agent waits and retries), [ErrNoIdentity] when no identity uses the
// address, [ErrCorrupt] when the client's files or the material cannot be
// parsed. Other errors (a missing tool, a read-only folder) name what failed.
type Configurator interface {
	// Identities lists the client's sending identities.
	Identities(ctx context.Context) ([]Identity, error)
	// Apply configures every identity with m.Address. It is idempotent: a
	// second Apply with the same material writes nothing and reports no
	// actions.
	Apply(ctx context.Context, m Material) (Report, error)
	// Revert restores, for every identity with address, what was there
	// before the first Apply, and removes the keys Apply added. An address
	// the client holds no change of is a no-op that succeeds even while the
	// client runs (the agent reverts addresses disabled on another device
	// on every device, most of which never configured them).
	Revert(ctx context.Context, address string) (Report, error)
}
