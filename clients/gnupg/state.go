package gnupg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/internal/atomicfile"
)

// homeState is what endymail remembers in a GnuPG home
// (HOME/endymail-backup/state.json): for each address, the keys Apply
// handled and what the home held of them before.
type homeState struct {
	Version   int                    `json:"version"`
	Addresses map[string][]keyRecord `json:"addresses"` // lower-case address → keys, oldest first
}

// keyRecord is one key Apply handled and what was there before it.
type keyRecord struct {
	Fingerprint string `json:"fingerprint"`
	HadPublic   bool   `json:"had_public,omitempty"` // the public key was in the keyring
	HadSecret   bool   `json:"had_secret,omitempty"` // the secret key was usable: never deleted
	Ownertrust  int    `json:"ownertrust"`           // the value before, 0 for none
}

func statePath(home string) string { return filepath.Join(home, backupDir, stateFile) }

func loadState(home string) (*homeState, error) {
	st := &homeState{Version: 1, Addresses: map[string][]keyRecord{}}
	b, err := os.ReadFile(statePath(home))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, st); err != nil || st.Version != 1 {
		return nil, fmt.Errorf("%s: unreadable endymail state: %w", statePath(home), clients.ErrCorrupt)
	}
	if st.Addresses == nil {
		st.Addresses = map[string][]keyRecord{}
	}
	return st, nil
}

func (st *homeState) save(home string) error {
	if err := os.MkdirAll(filepath.Join(home, backupDir), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(statePath(home), append(b, '\n'), 0o600)
}

// manages reports whether endymail handled the key fpr for some address.
func (st *homeState) manages(fpr string) bool {
	for _, recs := range st.Addresses {
		for _, r := range recs {
			if r.Fingerprint == fpr {
				return true
			}
		}
	}
	return false
}

// record returns the record of fpr for address, or nil.
func (st *homeState) record(address, fpr string) *keyRecord {
	recs := st.Addresses[strings.ToLower(address)]
	for i := range recs {
		if recs[i].Fingerprint == fpr {
			return &recs[i]
		}
	}
	return nil
}

// backup copies what a change may touch into a fresh
// HOME/endymail-backup/<time>/ and returns that folder: pubring.kbx,
// pubring.gpg and trustdb.gpg as they are, the exported ownertrust, and the
// names (not the contents) of the private keys, since no key that was
// there is ever deleted.
func backup(ctx context.Context, g gpg, now time.Time) (string, error) {
	dir, err := backupFolder(g.home, now)
	if err != nil {
		return "", err
	}
	for _, name := range []string{pubringKBX, pubringGPG, trustDB} {
		b, err := os.ReadFile(filepath.Join(g.home, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return "", err
		}
	}
	trust, err := g.output(ctx, nil, "--export-ownertrust")
	if err != nil {
		return "", err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "ownertrust.txt"), trust, 0o600); err != nil {
		return "", err
	}
	names, err := privateKeyNames(g.home)
	if err != nil {
		return "", err
	}
	listing := strings.Join(names, "\n")
	if listing != "" {
		listing += "\n"
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, keysDir+".txt"), []byte(listing), 0o600); err != nil {
		return "", err
	}
	return dir, nil
}

// backupFolder makes a new, empty HOME/endymail-backup/<time>[-n]/.
func backupFolder(home string, now time.Time) (string, error) {
	root := filepath.Join(home, backupDir)
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", err
	}
	base := filepath.Join(root, now.UTC().Format("20060102T150405Z"))
	for i := 0; i < 100; i++ {
		dir := base
		if i > 0 {
			dir = fmt.Sprintf("%s-%d", base, i)
		}
		err := os.Mkdir(dir, 0o700)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("no free backup folder name under %s", root)
}

// privateKeyNames lists private-keys-v1.d, sorted.
func privateKeyNames(home string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(home, keysDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, nil
}
