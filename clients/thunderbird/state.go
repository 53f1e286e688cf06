package thunderbird

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/rogpeppe/go-internal/lockedfile"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/internal/atomicfile"
)

// Files of a profile this package reads or changes.
const (
	prefsFile      = "prefs.js"
	passphraseFile = "encrypted-openpgp-passphrase.txt"
	pubringFile    = "pubring.gpg"
	secringFile    = "secring.gpg"
	acceptanceDB   = "openpgp.sqlite"
	certDB         = "cert9.db"
	keyDB          = "key4.db"
	backupDir      = "endymail-backup"
	stateFile      = "state.json"
)

// profileState is what endymail remembers in a profile
// (PROFILE/endymail-backup/state.json): the values prefs had before the
// first change, whether files existed, and what each address added, so that
// Revert can restore them.
type profileState struct {
	Version   int                   `json:"version"`
	Prefs     map[string]origPref   `json:"prefs"`               // pref → value before endymail first set it
	Files     map[string]bool       `json:"files"`               // file → existed before endymail first wrote it
	Addresses map[string]*addrState `json:"addresses,omitempty"` // lower-case address →
	Peers     *peerImports          `json:"peers,omitempty"`     // correspondents' keys ImportPeers wrote
}

type origPref struct {
	Existed bool   `json:"existed"`
	Literal string `json:"literal,omitempty"`
}

type addrState struct {
	Identities []string `json:"identities"`
	Prefs      []string `json:"prefs"`
	CertNick   string   `json:"cert_nick,omitempty"`
	CANick     string   `json:"ca_nick,omitempty"`
	// OpenPGP lists every key applied for the address, oldest first: a
	// rotated key stays in the keyrings so that old mail stays readable.
	OpenPGP []keyRecord `json:"openpgp_keys,omitempty"`
}

// keyRecord is one OpenPGP key endymail applied.
type keyRecord struct {
	Fingerprint string `json:"fingerprint"`
	// Preexisting is set when the secret key was in secring.gpg before
	// endymail: Revert then leaves the keyrings alone.
	Preexisting bool `json:"preexisting,omitempty"`
	// PriorDecision is the key's acceptance_decision before endymail
	// wrote 'personal' ("" when there was no row).
	PriorDecision string `json:"prior_decision,omitempty"`
}

// key returns the record of fpr, or nil.
func (a *addrState) key(fpr string) *keyRecord {
	for i := range a.OpenPGP {
		if a.OpenPGP[i].Fingerprint == fpr {
			return &a.OpenPGP[i]
		}
	}
	return nil
}

// peerImports is what ImportPeers wrote into a profile, so that RevertPeers
// can take it out and put back what it replaced, after any restart.
type peerImports struct {
	OpenPGP []peerKeyRecord  `json:"openpgp,omitempty"`
	SMIME   []peerCertRecord `json:"smime,omitempty"`
}

// peerKeyRecord is one correspondent's OpenPGP key ImportPeers wrote.
type peerKeyRecord struct {
	Address     string `json:"address"`
	Fingerprint string `json:"fingerprint"`
	// Wrote is the SHA-256 (hex) of the key block endymail last wrote into
	// pubring.gpg; "" when it wrote only the acceptance (the key was there).
	Wrote string `json:"wrote,omitempty"`
	// Prior is the block pubring.gpg held for the fingerprint before
	// endymail wrote one; nil when there was none.
	Prior []byte `json:"prior,omitempty"`
	// Decision is the key's acceptance_decision as endymail left it:
	// 'unverified' when it wrote it (Accepted), else what it found.
	Decision string `json:"decision,omitempty"`
	Accepted bool   `json:"accepted,omitempty"`
	// Email is set when endymail added the (fingerprint, address) row.
	Email bool `json:"email,omitempty"`
}

// peerCertRecord is one correspondent's S/MIME certificate ImportPeers
// trusted.
type peerCertRecord struct {
	Address string `json:"address"`
	DER     []byte `json:"der"`
	Nick    string `json:"nick"` // the nickname endymail added it under
	// PriorTrust is the certificate's trust before endymail's; "" when
	// the certificate was not in the database.
	PriorTrust string `json:"prior_trust,omitempty"`
}

// peerKey returns the record of fpr, or nil.
func (p *peerImports) peerKey(fpr string) *peerKeyRecord {
	for i := range p.OpenPGP {
		if p.OpenPGP[i].Fingerprint == fpr {
			return &p.OpenPGP[i]
		}
	}
	return nil
}

// addPeerKey returns the record of fpr, adding one with the decision found
// before endymail's first write.
func (p *peerImports) addPeerKey(address, fpr, decision string) *peerKeyRecord {
	if r := p.peerKey(fpr); r != nil {
		return r
	}
	p.OpenPGP = append(p.OpenPGP, peerKeyRecord{Address: address, Fingerprint: fpr, Decision: decision})
	return &p.OpenPGP[len(p.OpenPGP)-1]
}

// peerCert returns the record of the certificate der, or nil.
func (p *peerImports) peerCert(der []byte) *peerCertRecord {
	for i := range p.SMIME {
		if bytes.Equal(p.SMIME[i].DER, der) {
			return &p.SMIME[i]
		}
	}
	return nil
}

func (p *peerImports) empty() bool { return p == nil || len(p.OpenPGP) == 0 && len(p.SMIME) == 0 }

// lockState takes endymail's own lock on the profile, held across processes
// (the agent and a CLI command), and loads the state under it. Every change
// to a profile (Apply, Revert, ImportPeers, RevertPeers) runs from its
// loadState to its commit under this lock: two at once would each write a
// state that lacks the other's record, and a later revert would miss what
// the lost record named. It says nothing about Thunderbird, whose own lock
// is checkNotRunning's business.
func lockState(dir string) (*profileState, func(), error) {
	path, err := stateLockFile(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("lock endymail state of %s: %w", dir, err)
	}
	unlock, err := lockedfile.MutexAt(path).Lock()
	if err != nil {
		return nil, nil, fmt.Errorf("lock endymail state of %s: %w", dir, err)
	}
	st, err := loadState(dir)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return st, unlock, nil
}

// stateLockFile is the lock file for the profile dir: outside the profile,
// which a refused change must leave exactly as it was, in the user's own
// cache folder (never a shared temp folder, where another user could plant
// it), named by the profile's absolute path, symlinks resolved, so that
// every process finds the same file.
func stateLockFile(dir string) (string, error) {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	base = filepath.Join(base, "endymail", "locks")
	if err := os.MkdirAll(base, 0o700); err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join(base, "thunderbird-"+hex.EncodeToString(sum[:12])+".lock"), nil
}

func loadState(dir string) (*profileState, error) {
	st := &profileState{Version: 1, Prefs: map[string]origPref{}, Files: map[string]bool{}, Addresses: map[string]*addrState{}}
	b, err := os.ReadFile(filepath.Join(dir, backupDir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, st); err != nil || st.Version != 1 {
		return nil, fmt.Errorf("%s: unreadable endymail state: %w", filepath.Join(dir, backupDir, stateFile), clients.ErrCorrupt)
	}
	if st.Prefs == nil {
		st.Prefs = map[string]origPref{}
	}
	if st.Files == nil {
		st.Files = map[string]bool{}
	}
	if st.Addresses == nil {
		st.Addresses = map[string]*addrState{}
	}
	return st, nil
}

// configures reports whether endymail configured identity key.
func (st *profileState) configures(key string) bool {
	for _, a := range st.Addresses {
		if slices.Contains(a.Identities, key) {
			return true
		}
	}
	return false
}

// prefInUse reports whether an address other than except set pref.
func (st *profileState) prefInUse(pref, except string) bool {
	for addr, a := range st.Addresses {
		if addr != except && slices.Contains(a.Prefs, pref) {
			return true
		}
	}
	return false
}

// nickInUse reports whether an address other than except uses the CA nick.
func (st *profileState) nickInUse(nick, except string) bool {
	for addr, a := range st.Addresses {
		if addr != except && a.CANick == nick {
			return true
		}
	}
	return false
}

func (st *profileState) marshal() []byte {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		panic(err) // only maps of strings and bools
	}
	return append(b, '\n')
}

// backup copies the named profile files (those that exist) into a fresh
// PROFILE/endymail-backup/<time>/ and returns that folder.
func backup(dir string, now time.Time, names []string, manifest []byte) (string, error) {
	stamp := now.UTC().Format("20060102T150405.000000000Z")
	dst := filepath.Join(dir, backupDir, stamp)
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return "", fmt.Errorf("back up profile: %w", err)
	}
	for _, name := range names {
		if err := atomicfile.Copy(filepath.Join(dir, name), filepath.Join(dst, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("back up %s: %w", name, err)
		}
	}
	if err := writeAtomic(filepath.Join(dst, "manifest.json"), manifest, 0o600); err != nil {
		return "", err
	}
	return dst, nil
}

// pruneBackups removes every backup folder but the oldest once no address
// is configured any more: the later ones hold copies of key4.db and
// secring.gpg with the keys endymail added, which must not outlive the
// revert; the oldest holds the files as they were before endymail.
func pruneBackups(dir string) error {
	stamps, err := filepath.Glob(filepath.Join(dir, backupDir, "2*"))
	if err != nil || len(stamps) < 2 {
		return err
	}
	slices.Sort(stamps)
	for _, d := range stamps[1:] {
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("remove backup with key copies: %w", err)
		}
	}
	return nil
}

// writeAtomic writes data to a temporary file in name's folder, syncs it and
// renames it over name. An existing file keeps its permissions; a symlink
// keeps pointing at the file, which is the one replaced.
func writeAtomic(name string, data []byte, perm os.FileMode) error {
	if target, err := filepath.EvalSymlinks(name); err == nil {
		name = target
	}
	if fi, err := os.Stat(name); err == nil {
		perm = fi.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".endymail-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		return err
	}
	return syncDir(filepath.Dir(name))
}

// renameInto moves a staged file over the profile's, keeping the
// original's permissions, and syncs the folder.
func renameInto(staged, name string) error {
	if fi, err := os.Stat(name); err == nil {
		if err := os.Chmod(staged, fi.Mode().Perm()); err != nil {
			return err
		}
	}
	if err := syncFile(staged); err != nil {
		return err
	}
	if err := os.Rename(staged, name); err != nil {
		return err
	}
	return syncDir(filepath.Dir(name))
}

func syncFile(name string) error {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
