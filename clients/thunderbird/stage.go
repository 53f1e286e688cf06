package thunderbird

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/endymail/endymail/internal/atomicfile"
)

// stage is a scratch folder inside the profile (same file system, so
// renames are atomic) where every changed file is prepared before any of
// the profile's own files is touched.
type stage struct {
	profile, dir string
	changed      map[string]bool // profile file names whose staged copy replaces them
	nssStaged    bool            // cert9.db and key4.db are in the stage
	actions      []string
}

func newStage(profile string) (*stage, error) {
	removeStaleStages(profile)
	dir, err := os.MkdirTemp(profile, ".endymail-stage-")
	if err != nil {
		return nil, fmt.Errorf("prepare changes in %s: %w", profile, err)
	}
	return &stage{profile: profile, dir: dir, changed: map[string]bool{}}, nil
}

// removeStaleStages deletes stage folders an interrupted run left behind
// (older than an hour, so never one a concurrent run is using).
func removeStaleStages(profile string) {
	old, _ := filepath.Glob(filepath.Join(profile, ".endymail-stage-*"))
	for _, d := range old {
		if fi, err := os.Stat(d); err == nil && time.Since(fi.ModTime()) > time.Hour {
			os.RemoveAll(d)
		}
	}
}

func (s *stage) cleanup()                { os.RemoveAll(s.dir) }
func (s *stage) path(name string) string { return filepath.Join(s.dir, name) }
func (s *stage) orig(name string) string { return filepath.Join(s.profile, name) }
func (s *stage) did(format string, a ...any) {
	s.actions = append(s.actions, fmt.Sprintf(format, a...))
}

// copyIn copies the profile's file into the stage, once; it reports false
// when the profile has no such file. A SQLite hot journal next to it means an
// unfinished transaction we must not copy around.
func (s *stage) copyIn(name string) (bool, error) {
	for _, j := range []string{"-journal", "-wal"} {
		if fi, err := os.Stat(s.orig(name + j)); err == nil && fi.Size() > 0 {
			return false, fmt.Errorf("%s has an unfinished transaction (%s); start and quit Thunderbird once", s.orig(name), name+j)
		}
	}
	if fileExists(s.path(name)) {
		return true, nil
	}
	err := atomicfile.Copy(s.orig(name), s.path(name))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// write stages new contents for a profile file.
func (s *stage) write(name string, data []byte) error {
	if err := os.WriteFile(s.path(name), data, 0o600); err != nil {
		return err
	}
	s.changed[name] = true
	return nil
}

// commitOrder is the order staged files replace the profile's: a key
// before the certificate that needs it, a secret key before its public
// half, and prefs.js (which points at them) after everything.
var commitOrder = []string{keyDB, certDB, secringFile, pubringFile, acceptanceDB}

// commit backs up the profile files about to change, writes the state, then
// renames the staged files into place, prefs.js last. prefs is nil when
// prefs.js does not change.
func (s *stage) commit(now time.Time, st *profileState, prefs []byte, manifest any) error {
	var names []string
	for _, n := range commitOrder {
		if s.changed[n] {
			names = append(names, n)
		}
	}
	if prefs != nil {
		names = append(names, prefsFile)
	}
	for _, n := range names {
		if _, seen := st.Files[n]; !seen {
			_, err := os.Stat(s.orig(n))
			st.Files[n] = err == nil
		}
	}
	m, err := json.MarshalIndent(manifest, "", "  ")
	if err != nil {
		return err
	}
	if _, err := backup(s.profile, now, names, m); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(s.profile, backupDir, stateFile), st.marshal(), 0o600); err != nil {
		return fmt.Errorf("save endymail state: %w", err)
	}
	for _, n := range names {
		if n == prefsFile {
			continue
		}
		if err := s.place(n, st.Files[n]); err != nil {
			return err
		}
	}
	if prefs != nil {
		if err := writeAtomic(s.orig(prefsFile), prefs, 0o600); err != nil {
			return fmt.Errorf("write prefs.js: %w", err)
		}
	}
	return nil
}

// place renames one staged file into the profile; an empty keyring that
// did not exist before endymail is removed instead.
func (s *stage) place(name string, existed bool) error {
	if fi, err := os.Stat(s.path(name)); err == nil && fi.Size() == 0 && !existed && (name == pubringFile || name == secringFile) {
		if err := os.Remove(s.orig(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	if err := renameInto(s.path(name), s.orig(name)); err != nil {
		return fmt.Errorf("replace %s: %w", name, err)
	}
	return nil
}
