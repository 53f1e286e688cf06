package lookup

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/endymail/endymail/internal/atomicfile"
)

// CacheFile is the name of the cache in the directory given to [New].
const CacheFile = "keycache.json"

// Caps on what the cache keeps per address.
const (
	maxChanges    = 50
	maxRejections = 20
)

// Record is one key as a source gave it and the chain verified it.
type Record struct {
	Source           string    `json:"source"`                      // SourceMesh, SourceWKDAdvanced, ..., "thunderbird received mail"
	URL              string    `json:"url,omitempty"`               // where it came from (WKD, VKS)
	Fingerprint      string    `json:"fingerprint,omitempty"`       // OpenPGP v4, 40 hex digits
	OpenPGP          []byte    `json:"openpgp,omitempty"`           // binary transferable public key
	SMIME            [][]byte  `json:"smime,omitempty"`             // certificate chain DER, leaf first (mesh, received mail)
	SMIMEFingerprint string    `json:"smime_fingerprint,omitempty"` // SHA-256 of the leaf, hex
	Account          string    `json:"account,omitempty"`           // publishing account (mesh only)
	Seq              uint64    `json:"seq,omitempty"`               // its verified log head (mesh only)
	Head             string    `json:"head,omitempty"`              // EntryID of that head (mesh only)
	Fetched          time.Time `json:"fetched"`
}

// Change is a key for a known address that differs from the known one.
// Adopted changes replaced the known key (a rotation signed in the same
// account's log, or a user's acceptance); the others were held back.
type Change struct {
	Time    time.Time `json:"time"`
	Source  string    `json:"source"`
	Old     string    `json:"old"` // fingerprints, "OpenPGP/S/MIME"
	New     string    `json:"new"`
	Adopted bool      `json:"adopted"`
	Reason  string    `json:"reason"`
}

// Rejection is an answer a source gave that the chain refused, and why.
type Rejection struct {
	Time   time.Time `json:"time"`
	Source string    `json:"source"`
	URL    string    `json:"url,omitempty"`
	Reason string    `json:"reason"`
}

// Known is everything the cache holds about one address.
type Known struct {
	Address    string      `json:"address"`
	Current    *Record     `json:"current,omitempty"` // the key in use; nil when none
	Pending    *Record     `json:"pending,omitempty"` // a different key seen, not adopted
	Checked    time.Time   `json:"checked"`           // last lookup through the chain
	Expires    time.Time   `json:"expires"`           // next lookup through the chain due
	Changes    []Change    `json:"changes,omitempty"`
	Rejections []Rejection `json:"rejections,omitempty"` // most recent last
}

// cacheFile is the on-disk form.
type cacheFile struct {
	Version   int               `json:"version"`
	Addresses map[string]*Known `json:"addresses"`
}

func (r *Resolver) load() (*cacheFile, error) {
	c := &cacheFile{Version: 1, Addresses: map[string]*Known{}}
	b, err := os.ReadFile(r.path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("key cache: %w", err)
	}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("key cache %s: %w", r.path, err)
	}
	if c.Version != 1 {
		return nil, fmt.Errorf("key cache %s: version %d, want 1", r.path, c.Version)
	}
	if c.Addresses == nil {
		c.Addresses = map[string]*Known{}
	}
	return c, nil
}

func (r *Resolver) save(c *cacheFile) error {
	b, err := json.MarshalIndent(c, "", " ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(r.path, b, 0o600); err != nil {
		return fmt.Errorf("key cache: %w", err)
	}
	return nil
}

func (k *Known) reject(rej Rejection) {
	k.Rejections = append(k.Rejections, rej)
	if n := len(k.Rejections) - maxRejections; n > 0 {
		k.Rejections = k.Rejections[n:]
	}
}

func (k *Known) change(c Change) {
	k.Changes = append(k.Changes, c)
	if n := len(k.Changes) - maxChanges; n > 0 {
		k.Changes = k.Changes[n:]
	}
}

// ident is the pair of fingerprints a change is about.
func (rec *Record) ident() string {
	if rec == nil {
		return "none"
	}
	return orNone(rec.Fingerprint) + "/" + orNone(rec.SMIMEFingerprint)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// sameKeys reports whether b carries the same keys as a, as far as both
// carry them.
func sameKeys(a, b *Record) bool {
	same := func(x, y string) bool { return x == "" || y == "" || x == y }
	return same(a.Fingerprint, b.Fingerprint) && same(a.SMIMEFingerprint, b.SMIMEFingerprint) &&
		(a.Fingerprint != "" && b.Fingerprint != "" || a.SMIMEFingerprint != "" && b.SMIMEFingerprint != "")
}
