//go:build linux

package thunderbird

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/internal/interop"
)

// treeState hashes every file of the profile with its mode and mtime, so
// that "nothing written" is checked on all of it.
func treeState(t testing.TB, dir string) map[string]string {
	t.Helper()
	s := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			s[rel] = fi.Mode().String() + fi.ModTime().String() + fmt.Sprintf("%x", sha256.Sum256(b))
		} else {
			s[rel] = fi.Mode().String()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sameTree(t *testing.T, what string, want, got map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s changed", what, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: %s appeared", what, k)
		}
	}
}

func TestApplyTwiceTouchesNoFile(t *testing.T) {
	dir := startedProfile(t)
	c := New(Options{Profiles: []string{dir}})
	m := testMaterial(t, testAddress)
	if _, err := c.Apply(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	before := treeState(t, dir)
	r, err := c.Apply(context.Background(), m)
	if err != nil || r.Changed() {
		t.Fatalf("second Apply: %+v, %v", r, err)
	}
	sameTree(t, "second Apply", before, treeState(t, dir))
}

func TestApplyWhileThunderbirdRuns(t *testing.T) {
	dir := startedProfile(t)
	bin := interop.Need(t, "thunderbird", "thunderbird")
	cmd := exec.Command(bin, "--headless", "-profile", dir)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if locked, _, _ := profileLocked(dir); locked {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("thunderbird never locked its profile")
		}
	}
	_, err := New(Options{Profiles: []string{dir}}).Apply(context.Background(), testMaterial(t, testAddress))
	if !errors.Is(err, clients.ErrClientRunning) {
		t.Fatalf("Apply with Thunderbird running: got %v, want ErrClientRunning", err)
	}
	if fileExists(filepath.Join(dir, backupDir)) {
		t.Errorf("Apply with Thunderbird running created %s", backupDir)
	}
}

func TestLockStaleAndFcntl(t *testing.T) {
	dir := t.TempDir()
	// A crashed Thunderbird leaves the symlink; PID 2^22+1 is above Linux's pid_max.
	if err := os.Symlink("127.0.0.1:+4194305", filepath.Join(dir, "lock")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ".parentlock"), nil, 0o644)
	if locked, why, err := profileLocked(dir); err != nil || locked {
		t.Errorf("stale lock: got locked=%v (%s), %v; want unlocked", locked, why, err)
	}
	os.Remove(filepath.Join(dir, "lock"))
	stop := holdLock(t, dir)
	os.Remove(filepath.Join(dir, "lock")) // only the fcntl lock remains
	if locked, _, err := profileLocked(dir); err != nil || !locked {
		t.Errorf("fcntl-locked .parentlock: got locked=%v, %v; want locked", locked, err)
	}
	stop()
	if locked, _, _ := profileLocked(dir); locked {
		t.Errorf("after the holder exited: still locked")
	}
}

// applyFails applies to a damaged profile and checks the error and that no
// file changed.
func applyFails(t *testing.T, dir string, want error) error {
	t.Helper()
	before := treeState(t, dir)
	_, err := New(Options{Profiles: []string{dir}}).Apply(context.Background(), testMaterial(t, testAddress))
	if err == nil || want != nil && !errors.Is(err, want) {
		t.Errorf("Apply: got error %v, want %v", err, want)
	}
	sameTree(t, "failed Apply", before, treeState(t, dir))
	return err
}

func TestCorruptNSSDatabase(t *testing.T) {
	dir := startedProfile(t)
	os.WriteFile(filepath.Join(dir, certDB), bytes.Repeat([]byte("garbage!"), 1000), 0o600)
	applyFails(t, dir, clients.ErrCorrupt)
}

func TestCorruptKeyring(t *testing.T) {
	dir := startedProfile(t)
	os.WriteFile(filepath.Join(dir, secringFile), []byte{0xc5, 0xff, 0xff, 0xff, 0xff, 0xff, 1}, 0o600)
	applyFails(t, dir, clients.ErrCorrupt)
}

func TestCorruptPassphraseFile(t *testing.T) {
	dir := startedProfile(t)
	os.WriteFile(filepath.Join(dir, passphraseFile), []byte("MGMEEPgAAAAAAAAAAAAAAAAAAAEwHQYJYIZIAWUDBAEq"), 0o644)
	applyFails(t, dir, clients.ErrCorrupt)
}

func TestHotJournal(t *testing.T) {
	dir := startedProfile(t)
	os.WriteFile(filepath.Join(dir, acceptanceDB+"-journal"), []byte("unfinished"), 0o644)
	if err := applyFails(t, dir, nil); err != nil && !strings.Contains(err.Error(), "unfinished transaction") {
		t.Errorf("error %q does not explain the journal", err)
	}
}

func TestReadOnlyProfile(t *testing.T) {
	dir := startedProfile(t)
	if os.Geteuid() == 0 {
		if out, err := exec.Command("mount", "--bind", dir, dir).CombinedOutput(); err != nil {
			t.Skipf("cannot bind-mount as root: %v %s", err, out)
		}
		defer exec.Command("umount", dir).Run()
		if out, err := exec.Command("mount", "-o", "remount,bind,ro", dir).CombinedOutput(); err != nil {
			t.Skipf("cannot remount read-only: %v %s", err, out)
		}
	} else {
		os.Chmod(dir, 0o555)
		defer os.Chmod(dir, 0o755)
	}
	err := applyFails(t, dir, nil)
	if err != nil && !strings.Contains(err.Error(), dir) {
		t.Errorf("error %q does not name the profile", err)
	}
}
