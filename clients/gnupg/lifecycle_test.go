//go:build unix

package gnupg

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/openpgp"
)

// TestApplyBacksUpAndListsIdentities applies to a home with the user's
// own key and checks the backup, the identities and a real signature.
func TestApplyBacksUpAndListsIdentities(t *testing.T) {
	ctx := context.Background()
	home := newHome(t)
	own := userKey(t, home, "Alice Old <"+testAddress+">")
	before, err := os.ReadFile(filepath.Join(home, pubringKBX))
	if err != nil {
		t.Fatal(err)
	}
	m := material(t, testAddress)
	c := New(Options{Home: home, Now: func() time.Time { return time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC) }})
	rep, err := c.Apply(ctx, m)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(rep.Actions) != 2 || len(rep.Location) != 1 || rep.Location[0] != home {
		t.Errorf("Apply report: got actions %q at %q, want an import and an ownertrust change at %s", rep.Actions, rep.Location, home)
	}
	saved, err := os.ReadFile(filepath.Join(home, backupDir, "20261127T070000Z", pubringKBX))
	if err != nil || !bytes.Equal(saved, before) {
		t.Errorf("backup of %s: got %d bytes (err %v), want the %d bytes before Apply", pubringKBX, len(saved), err, len(before))
	}
	checkApplied(t, home, m)
	ids, err := c.Identities(ctx)
	if err != nil {
		t.Fatalf("Identities: %v", err)
	}
	enabled := map[string]bool{}
	for _, id := range ids {
		if id.Client != ClientName || id.Location != home || id.Address != testAddress {
			t.Errorf("identity %+v: want client %s, location %s, address %s", id, ClientName, home, testAddress)
		}
		enabled[id.Account] = id.Enabled
	}
	want := map[string]bool{own: false, m.OpenPGP.Fingerprint: true}
	if fmt.Sprint(enabled) != fmt.Sprint(want) {
		t.Errorf("Identities: got enabled %v, want %v", enabled, want)
	}
}

// TestRevertKeepsPreexistingKey: the user had imported endymail's key
// (say from `endymail export`) with some ownertrust; Apply only raises the
// trust and Revert puts it back without deleting the key.
func TestRevertKeepsPreexistingKey(t *testing.T) {
	for _, prior := range []int{0, 4} {
		t.Run(fmt.Sprintf("ownertrust%d", prior), func(t *testing.T) {
			ctx := context.Background()
			home := newHome(t)
			other := userKey(t, home, "Carol <carol@example.net>")
			m := material(t, testAddress)
			fpr := m.OpenPGP.Fingerprint
			gpgT(t, home, m.OpenPGP.Secret, "--import")
			if prior != 0 {
				gpgT(t, home, fmt.Appendf(nil, "%s:%d:\n", fpr, prior), "--import-ownertrust")
			}
			before := snapshot(t, home)
			c := New(Options{Home: home})
			rep, err := c.Apply(ctx, m)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if len(rep.Actions) != 1 || !strings.Contains(rep.Actions[0], "ownertrust") {
				t.Errorf("Apply: got actions %q, want only the ownertrust change", rep.Actions)
			}
			checkApplied(t, home, m)
			if _, err := c.Revert(ctx, testAddress); err != nil {
				t.Fatalf("Revert: %v", err)
			}
			sameSnapshot(t, before, snapshot(t, home))
			keys := parseColons(gpgT(t, home, nil, "--with-colons", "--list-secret-keys"))
			for _, f := range []string{fpr, other} {
				if k := find(keys, f); k == nil || !k.SecretUsable {
					t.Errorf("after Revert: secret key %s gone, want it kept", f)
				}
			}
		})
	}
}

// TestRevertKeepsPreexistingPublicKey: with only the public key in the
// keyring before, Revert deletes the secret key Apply imported and keeps
// the public one.
func TestRevertKeepsPreexistingPublicKey(t *testing.T) {
	ctx := context.Background()
	home := newHome(t)
	userKey(t, home, "Alice Old <"+testAddress+">")
	m := material(t, testAddress)
	gpgT(t, home, m.OpenPGP.Public, "--import")
	before := snapshot(t, home)
	c := New(Options{Home: home})
	if _, err := c.Apply(ctx, m); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	checkApplied(t, home, m)
	rep, err := c.Revert(ctx, testAddress)
	if err != nil {
		t.Fatalf("Revert: %v", err)
	}
	if len(rep.Actions) != 2 {
		t.Errorf("Revert: got actions %q, want the secret key deleted and the ownertrust restored", rep.Actions)
	}
	sameSnapshot(t, before, snapshot(t, home))
}

// TestRevertRotatedKeys: a second key for the address (a rotation) is
// imported beside the first; Revert deletes both.
func TestRevertRotatedKeys(t *testing.T) {
	ctx := context.Background()
	home := newHome(t)
	userKey(t, home, "Alice Old <"+testAddress+">")
	before := snapshot(t, home)
	c := New(Options{Home: home})
	first := material(t, testAddress)
	k, err := openpgp.Generate(openpgp.KeyRequest{Name: "Alice", Address: testAddress})
	if err != nil {
		t.Fatal(err)
	}
	second := first
	second.OpenPGP = &clients.OpenPGP{Fingerprint: k.Fingerprint()}
	if second.OpenPGP.Secret, err = k.Marshal(); err != nil {
		t.Fatal(err)
	}
	if second.OpenPGP.Public, err = k.SerializePublic(); err != nil {
		t.Fatal(err)
	}
	for _, m := range []clients.Material{first, second} {
		if _, err := c.Apply(ctx, m); err != nil {
			t.Fatalf("Apply %s: %v", m.OpenPGP.Fingerprint, err)
		}
		checkApplied(t, home, m)
	}
	rep, err := c.Revert(ctx, testAddress)
	if err != nil {
		t.Fatalf("Revert: %v", err)
	}
	if len(rep.Actions) != 2 {
		t.Errorf("Revert: got actions %q, want two keys deleted", rep.Actions)
	}
	sameSnapshot(t, before, snapshot(t, home))
}

func sameSnapshot(t *testing.T, want, got map[string][]byte) {
	t.Helper()
	for k, w := range want {
		if !bytes.Equal(w, got[k]) {
			t.Errorf("%s after Revert:\ngot  %q\nwant %q", k, got[k], w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s after Revert: new, want absent", k)
		}
	}
}

// TestNoHome: without a GnuPG home there is no identity, and nothing is
// created.
func TestNoHome(t *testing.T) {
	ctx := context.Background()
	home := filepath.Join(t.TempDir(), "absent")
	c := New(Options{Home: home})
	if ids, err := c.Identities(ctx); err != nil || len(ids) != 0 {
		t.Errorf("Identities: got %v, %v; want none, nil", ids, err)
	}
	if _, err := c.Apply(ctx, material(t, testAddress)); !errors.Is(err, clients.ErrNoIdentity) {
		t.Errorf("Apply: got error %v, want ErrNoIdentity", err)
	}
	if rep, err := c.Revert(ctx, testAddress); err != nil || rep.Changed() {
		t.Errorf("Revert: got %q, %v; want no actions, nil", rep.Actions, err)
	}
	if _, err := os.Stat(home); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("home after Apply: got stat error %v, want it absent", err)
	}
}

// TestMissingGPG names the Debian package.
func TestMissingGPG(t *testing.T) {
	c := New(Options{Home: t.TempDir(), GPG: "/nonexistent/gpg"})
	_, err := c.Apply(context.Background(), material(t, testAddress))
	if !errors.Is(err, ErrNoGPG) || !strings.Contains(err.Error(), "gnupg") {
		t.Errorf("Apply without gpg: got error %v, want ErrNoGPG naming the package gnupg", err)
	}
}

// TestWrongMaterial: a secret key whose fingerprint is not the one the
// material names is refused before anything is written.
func TestWrongMaterial(t *testing.T) {
	home := newHome(t)
	userKey(t, home, "Alice Old <"+testAddress+">")
	before := snapshot(t, home)
	m := material(t, testAddress)
	p := *m.OpenPGP
	p.Secret = material(t, "bob@example.org").OpenPGP.Secret
	m.OpenPGP = &p
	if _, err := New(Options{Home: home}).Apply(context.Background(), m); !errors.Is(err, clients.ErrCorrupt) {
		t.Errorf("Apply with another key's secret: got error %v, want ErrCorrupt", err)
	}
	p.Secret = []byte("not a key")
	if _, err := New(Options{Home: home}).Apply(context.Background(), m); !errors.Is(err, clients.ErrCorrupt) {
		t.Errorf("Apply with garbage for a key: got error %v, want ErrCorrupt", err)
	}
	sameSnapshot(t, before, snapshot(t, home))
}

// TestSMIMEDeferred: S/MIME material is listed as deferred, not an error.
func TestSMIMEDeferred(t *testing.T) {
	home := newHome(t)
	userKey(t, home, "Alice Old <"+testAddress+">")
	m := material(t, testAddress)
	m.SMIME = &clients.SMIME{PKCS12: []byte{0}, Cert: &x509.Certificate{}, CA: &x509.Certificate{}}
	rep, err := New(Options{Home: home}).Apply(context.Background(), m)
	if err != nil || len(rep.Deferred) != 1 || !strings.Contains(rep.Deferred[0], "S/MIME") {
		t.Errorf("Apply with S/MIME: got deferred %q, error %v; want one S/MIME line", rep.Deferred, err)
	}
}

// TestStaleLock: a dotlock whose process is gone does not block.
func TestStaleLock(t *testing.T) {
	home := newHome(t)
	userKey(t, home, "Alice Old <"+testAddress+">")
	host, _ := os.Hostname()
	// PIDs above the kernel's pid_max (at most 2^22) never run.
	if err := os.WriteFile(filepath.Join(home, trustDB+".lock"), fmt.Appendf(nil, "%10d\n%s\n", 1<<23, host), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := checkNotLocked(home); err != nil {
		t.Errorf("checkNotLocked with a dead owner: got %v, want nil", err)
	}
	if err := os.WriteFile(filepath.Join(home, trustDB+".lock"), fmt.Appendf(nil, "%10d\n%s\n", os.Getpid(), host), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := checkNotLocked(home); !errors.Is(err, clients.ErrClientRunning) {
		t.Errorf("checkNotLocked with a live owner: got %v, want ErrClientRunning", err)
	}
}

// TestImportsWithoutOwnKey: a home with no key for the address (the usual
// case for a new user) gets endymail's key.
func TestImportsWithoutOwnKey(t *testing.T) {
	ctx := context.Background()
	home := newHome(t)
	userKey(t, home, "Carol <carol@example.net>")
	c := New(Options{Home: home})
	m := material(t, testAddress)
	if _, err := c.Apply(ctx, m); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	checkApplied(t, home, m)
	ids, err := c.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var enabled int
	for _, id := range ids {
		if id.Address == testAddress && id.Enabled {
			enabled++
		}
	}
	if enabled != 1 {
		t.Errorf("identities after Apply: %+v, want one enabled for %s", ids, testAddress)
	}
}
