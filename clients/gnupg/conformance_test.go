//go:build unix

package gnupg

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/clients/clienttest"
)

// TestConformance runs the shared suite on real GnuPG homes holding a
// gpg.conf, the user's own gpg-made key for the address and a key for
// someone else.
func TestConformance(t *testing.T) {
	clienttest.Run(t, func(t *testing.T) (clients.Configurator, clienttest.Fixture) {
		home := newHome(t)
		// A gpg.conf with listing options that change the colon output's
		// extra records; the suite's snapshot proves it stays unchanged.
		conf := "keyid-format 0xlong\nwith-fingerprint\nwith-subkey-fingerprint\nwith-keygrip\n"
		if err := os.WriteFile(filepath.Join(home, "gpg.conf"), []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		userKey(t, home, "Alice Old <"+testAddress+">")
		userKey(t, home, "Carol <carol@example.net>")
		c := New(Options{Home: home})
		return c, clienttest.Fixture{
			Material: material(t, testAddress),
			Snapshot: func(t testing.TB) map[string][]byte { return snapshot(t, home) },
			Run:      func(t testing.TB) func() { return holdLock(t, home) },
			Corrupt: func(t testing.TB) {
				if err := os.Truncate(filepath.Join(home, pubringKBX), 100); err != nil {
					t.Fatal(err)
				}
			},
			Check:      func(t testing.TB, m clients.Material) { checkApplied(t, home, m) },
			AnyAddress: true,
		}
	})
}

// holdLock holds pubring.kbx's dotlock the way a writing gpg does
// (gnupg common/dotlock.c: "%10d\n" PID, then the node name) for a live
// helper process, until the returned function is called.
func holdLock(t testing.TB, home string) func() {
	t.Helper()
	helper := exec.Command("sleep", "600")
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	lock := filepath.Join(home, pubringKBX+".lock")
	if err := os.WriteFile(lock, fmt.Appendf(nil, "%10d\n%s\n", helper.Process.Pid, host), 0o644); err != nil {
		t.Fatal(err)
	}
	return func() {
		os.Remove(lock)
		helper.Process.Kill()
		helper.Wait()
	}
}

// checkApplied asks gpg whether m's key is usable and ultimately trusted:
// listed with its secret, trust "u", and gpg signs, encrypts and decrypts
// with it in batch mode.
func checkApplied(t testing.TB, home string, m clients.Material) {
	t.Helper()
	fpr := m.OpenPGP.Fingerprint
	keys := parseColons(gpgT(t, home, nil, "--with-colons", "--list-secret-keys", fpr))
	if k := find(keys, fpr); k == nil || !k.SecretUsable {
		t.Errorf("gpg --list-secret-keys %s: got %+v, want a usable secret key", fpr, keys)
	}
	if got := trustOf(t, home, fpr); got != "u" {
		t.Errorf("ownertrust of %s: got %q, want \"u\"", fpr, got)
	}
	out := string(gpgT(t, home, []byte("hello\n"), "--status-fd", "1", "--local-user", fpr, "--output", os.DevNull, "--sign"))
	if !strings.Contains(out, "SIG_CREATED") || !strings.Contains(out, fpr) {
		t.Errorf("gpg --sign with %s: got status %q, want SIG_CREATED by the key", fpr, out)
	}
	// In batch mode gpg encrypts only to valid keys: without the ultimate
	// ownertrust this fails with "unusable public key".
	enc := gpgT(t, home, []byte("secret hello\n"), "--recipient", fpr, "--encrypt")
	if got := string(gpgT(t, home, enc, "--decrypt")); got != "secret hello\n" {
		t.Errorf("gpg --decrypt of a message to %s: got %q, want %q", fpr, got, "secret hello\n")
	}
}
