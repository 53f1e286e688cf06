//go:build linux

package thunderbird

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/clients/clienttest"
	"github.com/endymail/endymail/internal/interop"
)

func TestConformance(t *testing.T) {
	m := testMaterial(t, testAddress)
	peers := contactPeers(t)
	clienttest.Run(t, func(t *testing.T) (clients.Configurator, clienttest.Fixture) {
		dir := startedProfile(t)
		c := New(Options{Profiles: []string{dir}})
		return c, clienttest.Fixture{
			Material: m,
			Snapshot: func(t testing.TB) map[string][]byte { return snapshot(t, dir) },
			Run:      func(t testing.TB) func() { return holdLock(t, dir) },
			Corrupt: func(t testing.TB) {
				if err := os.WriteFile(filepath.Join(dir, prefsFile), []byte("user_pref(\"mail.identity.id1.useremail\", \"alice@example.com\");\nuser_pref(\"broken\", ;\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			Check:    func(t testing.TB, m clients.Material) { checkApplied(t, dir, m) },
			Contacts: contactsFixture(t, dir, peers),
		}
	})
}

// snapshot is the profile's state as the conformance suite compares it:
// the files endymail promises to restore byte for byte, and what NSS and
// SQLite report for the databases (whose bytes change on any delete).
func snapshot(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	s := map[string][]byte{}
	for _, name := range []string{prefsFile, pubringFile, secringFile} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			s[name] = b
		}
	}
	s["certutil -L"] = []byte(tbNSS(t, nil, "certutil", "-L", "-d", "sql:"+dir))
	s["certutil -K"] = []byte(nssKeys(t, dir))
	sqlite := interop.Need(t, "sqlite3", "sqlite3")
	out, err := exec.Command(sqlite, "-readonly", filepath.Join(dir, acceptanceDB),
		"select * from acceptance_decision order by fpr; select * from acceptance_email order by fpr, email;").CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3: %v\n%s", err, out)
	}
	s["openpgp.sqlite rows"] = out
	return s
}

// nssKeys lists the private keys, or "" when there are none (certutil -K
// then exits 255).
func nssKeys(t testing.TB, dir string) string {
	t.Helper()
	cmd := exec.Command("certutil", "-K", "-d", "sql:"+dir)
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH=/usr/lib/thunderbird")
	out, err := cmd.CombinedOutput()
	if err != nil && !strings.Contains(string(out), "no keys found") {
		t.Fatalf("certutil -K: %v\n%s", err, out)
	}
	return string(out)
}

// holdLock locks the profile the way a running Thunderbird does on Linux:
// a helper process holds an fcntl write lock on .parentlock and the lock
// symlink names its PID. (lock_test.go checks the same against the real
// Thunderbird.)
func holdLock(t testing.TB, dir string) func() {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldLock$")
	cmd.Env = append(os.Environ(), "ENDYMAIL_HOLD_LOCK="+dir)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "locked") {
		t.Fatalf("lock helper: %q %v", line, err)
	}
	return func() {
		stdin.Close()
		cmd.Wait()
		os.Remove(filepath.Join(dir, "lock"))
	}
}

// TestHelperHoldLock is the lock-holding process of holdLock.
func TestHelperHoldLock(t *testing.T) {
	dir := os.Getenv("ENDYMAIL_HOLD_LOCK")
	if dir == "" {
		return // only a helper process for holdLock
	}
	f, err := os.OpenFile(filepath.Join(dir, ".parentlock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK}
	if err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(fmt.Sprintf("127.0.0.1:+%d", os.Getpid()), filepath.Join(dir, "lock")); err != nil && !errors.Is(err, os.ErrExist) {
		t.Fatal(err)
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin)
}

// The agent and a CLI command apply the same address to one profile at
// once (two configurators): the state lock makes one do the work and the
// other find it done, and one Revert restores the profile; without the
// lock each recorded the other's change as the original.
func TestConcurrentApplyThenRevert(t *testing.T) {
	m := testMaterial(t, testAddress)
	for round := range 3 {
		dir := startedProfile(t)
		before := snapshot(t, dir)
		errs := make(chan error, 2)
		for range 2 {
			go func() {
				_, err := New(Options{Profiles: []string{dir}}).Apply(t.Context(), m)
				errs <- err
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: apply: %v", round, err)
			}
		}
		checkApplied(t, dir, m)
		if _, err := New(Options{Profiles: []string{dir}}).Revert(t.Context(), testAddress); err != nil {
			t.Fatalf("round %d: revert: %v", round, err)
		}
		after := snapshot(t, dir)
		for k, v := range before {
			if string(after[k]) != string(v) {
				t.Errorf("round %d: %s differs after two concurrent applies and a revert:\n got %s\nwant %s", round, k, after[k], v)
			}
		}
	}
}
