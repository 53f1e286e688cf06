package wincfg

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/clients/windows/certstore"
	"github.com/endymail/endymail/clients/windows/winmail"
	"github.com/rogpeppe/go-internal/lockedfile"

	"github.com/endymail/endymail/internal/atomicfile"
)

// recordVersion is the version of the undo record format.
const recordVersion = 1

// record is what the state folder keeps for one address: winmail's undo
// records of every Apply, merged, and every certificate imported for the
// address (a rotation keeps the old one in CurrentUser\My for reading old
// mail until Revert).
type record struct {
	Version  int                    `json:"version"`
	Undo     winmail.Undo           `json:"undo"`
	Imported []certstore.Thumbprint `json:"imported,omitempty"`
}

// imported reports whether t was imported for the address.
func (r *record) imported(t certstore.Thumbprint) bool {
	if r == nil {
		return false
	}
	for _, x := range r.Imported {
		if x == t {
			return true
		}
	}
	return false
}

// merged returns r (which may be nil) with the later undo record u added.
func (r *record) merged(u *winmail.Undo) *record {
	if r == nil {
		n := &record{Version: recordVersion, Undo: *u}
		return n.withImport(u.Thumbprint)
	}
	n := *r
	n.Imported = append([]certstore.Thumbprint(nil), r.Imported...)
	keep := n.Undo.Thumbprint
	n.Undo.Merge(u)
	if u.Thumbprint.IsZero() {
		n.Undo.Thumbprint = keep // that Apply failed before the import
	}
	return n.withImport(u.Thumbprint)
}

func (r *record) withImport(t certstore.Thumbprint) *record {
	if !t.IsZero() && !r.imported(t) {
		r.Imported = append(r.Imported, t)
	}
	return r
}

// decodeRecord parses a state file. Its errors wrap clients.ErrCorrupt.
func decodeRecord(b []byte) (*record, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%w: %w", clients.ErrCorrupt, err)
	}
	if r.Version != recordVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", clients.ErrCorrupt, r.Version, recordVersion)
	}
	if r.Undo.Address == "" {
		return nil, fmt.Errorf("%w: no address", clients.ErrCorrupt)
	}
	return &r, nil
}

// stateDir is the folder of undo records, one file per address.
type stateDir string

// fileName maps an address to a file name that is valid on Windows: lower
// case, with every byte outside [a-z0-9.@_+-] written as %XX.
func fileName(address string) string {
	var b strings.Builder
	for _, c := range []byte(strings.ToLower(address)) {
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', strings.IndexByte(".@_+-", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String() + ".json"
}

func (d stateDir) path(address string) string { return filepath.Join(string(d), fileName(address)) }

// load returns the record of address, or nil when there is none.
func (d stateDir) load(address string) (*record, error) {
	b, err := os.ReadFile(d.path(address))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read undo record: %w", err)
	}
	r, err := decodeRecord(b)
	if err != nil {
		return nil, fmt.Errorf("undo record %s: %w", d.path(address), err)
	}
	if !strings.EqualFold(r.Undo.Address, address) {
		return nil, fmt.Errorf("undo record %s: %w: it is for %s", d.path(address), clients.ErrCorrupt, r.Undo.Address)
	}
	return r, nil
}

// save writes r atomically with mode 0600 (it names the user's files and
// certificates, no secrets).
func (d stateDir) save(r *record) error {
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return fmt.Errorf("save undo record: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("save undo record: %w", err)
	}
	if err := atomicfile.WriteFile(d.path(r.Undo.Address), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save undo record: %w", err)
	}
	return nil
}

// remove deletes the record of address; a missing one is fine.
func (d stateDir) remove(address string) error {
	err := os.Remove(d.path(address))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove undo record: %w", err)
	}
	return nil
}

// lock takes the lock of the state folder, held across processes (the agent
// and a CLI command) for a whole Apply or Revert: both read an undo record,
// change the system and write the record back, and two at once would record
// one's change as the other's original value, so that a revert would
// restore endymail's value instead of the user's.
func (d stateDir) lock() (unlock func(), err error) {
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return nil, fmt.Errorf("lock undo records: %w", err)
	}
	unlock, err = lockedfile.MutexAt(filepath.Join(string(d), "endymail.lock")).Lock()
	if err != nil {
		return nil, fmt.Errorf("lock undo records: %w", err)
	}
	return unlock, nil
}

// caUsedElsewhere reports whether the record of another address than
// address names the CA ca.
func (d stateDir) caUsedElsewhere(address string, ca certstore.Thumbprint) (bool, error) {
	entries, err := os.ReadDir(string(d))
	if err != nil {
		return false, fmt.Errorf("list undo records: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || e.Name() == fileName(address) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(string(d), e.Name()))
		if err != nil {
			return false, fmt.Errorf("read undo record: %w", err)
		}
		r, err := decodeRecord(b)
		if err != nil {
			return false, fmt.Errorf("undo record %s: %w", e.Name(), err)
		}
		if r.Undo.CA != nil && *r.Undo.CA == ca {
			return true, nil
		}
	}
	return false, nil
}
