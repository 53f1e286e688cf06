package wincfg

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/clients/windows/certstore"
	"github.com/endymail/endymail/clients/windows/outlook"
	"github.com/endymail/endymail/clients/windows/winreg"
	"github.com/endymail/endymail/clients/windows/wlmail"
)

func mustApply(t *testing.T, c *Configurator, m clients.Material) clients.Report {
	t.Helper()
	r, err := c.Apply(ctx, m)
	if err != nil {
		t.Fatalf("Apply %s: %v", m.Address, err)
	}
	return r
}

func TestIdentitiesPerClient(t *testing.T) {
	e := newEnv(t)
	ids, err := e.configurator().Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, id := range ids {
		got = append(got, id.Client+" "+id.Address+" "+id.Account+" "+id.Name)
	}
	want := []string{
		"outlook bob@example.com Bob ",
		"outlook Alice@Example.com Outlook ",
		"windows-live-mail alice@example.com account{alice} Alice Example",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Identities: got %q, want %q", got, want)
	}
}

// TestRecordPersisted checks the undo record: one file per address,
// mode 0600, naming the certificate and every change.
func TestRecordPersisted(t *testing.T) {
	e := newEnv(t)
	m := e.material(t, alice)
	mustApply(t, e.configurator(), m)
	path := filepath.Join(e.stateDir, "alice@example.com.json")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("record mode: got %v, want 0600", st.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	rec, err := decodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	tp := certstore.ThumbprintOf(m.SMIME.Cert)
	if rec.Undo.Thumbprint != tp || !slices.Equal(rec.Imported, []certstore.Thumbprint{tp}) ||
		len(rec.Undo.Registry) != 2 || len(rec.Undo.WLMail) != 2 || !rec.Undo.CATrusted() {
		t.Errorf("record: got %+v, want the thumbprint %s, 2 registry and 2 file changes, CA in Root", rec, tp)
	}
}

// TestRotation applies a second certificate: the clients move to it, the
// first stays in My for old mail, and one Revert undoes both Applies.
func TestRotation(t *testing.T) {
	e := newEnv(t)
	c := e.configurator()
	before := e.snapshot(t)
	m1, m2 := e.material(t, alice), e.material(t, alice)
	mustApply(t, c, m1)
	r := mustApply(t, c, m2)
	t1, t2 := certstore.ThumbprintOf(m1.SMIME.Cert), certstore.ThumbprintOf(m2.SMIME.Cert)
	if !r.Changed() || !strings.Contains(strings.Join(r.Actions, "\n"), t2.String()) {
		t.Errorf("second Apply: actions %q, want the import of %s", r.Actions, t2)
	}
	e.check(t, m2)
	if !e.store.has(certstore.My, t1) {
		t.Errorf("the first certificate left My on rotation; old mail would be unreadable")
	}
	if _, err := c.Revert(ctx, alice); err != nil {
		t.Fatal(err)
	}
	same(t, before, e.snapshot(t))
}

// TestCAShared keeps the personal CA trusted until the last address of the
// account is reverted.
func TestCAShared(t *testing.T) {
	e := newEnv(t)
	c := e.configurator()
	mustApply(t, c, e.material(t, alice))
	mustApply(t, c, e.material(t, "bob@example.com"))
	ca := certstore.ThumbprintOf(e.ca)
	if _, err := c.Revert(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if !e.store.has(certstore.Root, ca) {
		t.Errorf("CA left Root while bob still uses it")
	}
	if _, err := c.Revert(ctx, "BOB@example.com"); err != nil {
		t.Fatal(err)
	}
	if e.store.has(certstore.Root, ca) {
		t.Errorf("CA still in Root after the last address was reverted")
	}
}

// TestCARemovalRefused: a No to Windows' dialog about removing the CA from
// Root does not fail the Revert; it is reported and not asked again.
func TestCARemovalRefused(t *testing.T) {
	e := newEnv(t)
	c := e.configurator()
	mustApply(t, c, e.material(t, alice))
	e.store.refuse = certstore.Root
	r, err := c.Revert(ctx, alice)
	if err != nil || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "stays in CurrentUser\\Root") {
		t.Fatalf("Revert: got %q, %v; want one warning about the CA", r.Warnings, err)
	}
	if r, err := c.Revert(ctx, alice); err != nil || r.Changed() || len(r.Warnings) != 0 {
		t.Errorf("second Revert: got %+v, %v; want a no-op", r, err)
	}
}

// TestRevertLeavesUserChanges: a value the user changed after Apply is
// kept and reported; the rest is restored.
func TestRevertLeavesUserChanges(t *testing.T) {
	e := newEnv(t)
	c := e.configurator()
	mustApply(t, c, e.material(t, alice))
	b, _ := os.ReadFile(e.wlmFile)
	acct, err := wlmail.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	const theirs = "00112233445566778899aabbccddeeff00112233"
	if err := acct.SetBinary(wlmail.SigningElement, theirs); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.wlmFile, acct.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := c.Revert(ctx, alice)
	if err != nil {
		t.Fatalf("Revert: %v", err)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], wlmail.SigningElement) {
		t.Errorf("Revert warnings: got %q, want one about %s", r.Warnings, wlmail.SigningElement)
	}
	b, _ = os.ReadFile(e.wlmFile)
	acct, _ = wlmail.Parse(b)
	if v, _ := acct.Value(wlmail.SigningElement); v != theirs {
		t.Errorf("user's %s: got %q, want %q", wlmail.SigningElement, v, theirs)
	}
	if _, ok := acct.Value(wlmail.EncryptionElement); ok {
		t.Errorf("%s not restored", wlmail.EncryptionElement)
	}
}

// TestCorruptAccountFile: an unreadable .oeaccount anywhere in the store
// stops Apply before anything is written (winmail reads them all).
func TestCorruptAccountFile(t *testing.T) {
	e := newEnv(t)
	bad := filepath.Join(filepath.Dir(e.wlmFile), "..", "other", "account{bad}.oeaccount")
	if err := os.MkdirAll(filepath.Dir(bad), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("not utf-16"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := e.snapshot(t)
	_, err := e.configurator().Apply(ctx, e.material(t, alice))
	if !errors.Is(err, clients.ErrCorrupt) || !strings.Contains(err.Error(), "account{bad}") {
		t.Errorf("Apply: got %v, want ErrCorrupt naming the file", err)
	}
	same(t, before, e.snapshot(t))
	ids, err := e.configurator().Identities(ctx)
	if !errors.Is(err, clients.ErrCorrupt) || len(ids) != 3 {
		t.Errorf("Identities: got %d identities and %v, want 3 and ErrCorrupt", len(ids), err)
	}
}

// TestKeyCheckFails: when the imported key cannot be acquired, Apply fails
// and takes back everything it did.
func TestKeyCheckFails(t *testing.T) {
	e := newEnv(t)
	c := e.configurator()
	c.opts.CheckKey = func(certstore.Thumbprint) error { return certstore.ErrNoKey }
	before := e.snapshot(t)
	m := e.material(t, alice)
	if _, err := c.Apply(ctx, m); !errors.Is(err, certstore.ErrNoKey) {
		t.Fatalf("Apply: got %v, want ErrNoKey", err)
	}
	after := e.snapshot(t)
	// The CA stays trusted (removing it would show a second dialog) and is
	// recorded so that Revert takes it out.
	ca := "store Root " + certstore.ThumbprintOf(e.ca).String()
	rec := filepath.Join(e.stateDir, "alice@example.com.json")
	if _, ok := after[ca]; !ok {
		t.Errorf("CA not in Root after the failed Apply")
	}
	delete(after, ca)
	delete(after, rec)
	same(t, before, after)
	if _, err := c.Revert(ctx, alice); err != nil {
		t.Fatal(err)
	}
	same(t, before, e.snapshot(t))
}

// TestNoSMIME: OpenPGP-only material is not for these clients.
func TestNoSMIME(t *testing.T) {
	e := newEnv(t)
	before := e.snapshot(t)
	m := clients.Material{Address: alice, OpenPGP: &clients.OpenPGP{Secret: []byte{1}, Public: []byte{1},
		Fingerprint: strings.Repeat("AB", 20)}}
	r, err := e.configurator().Apply(ctx, m)
	if err != nil || r.Changed() || len(r.Warnings) != 1 {
		t.Errorf("Apply: got %+v, %v; want no change and one warning", r, err)
	}
	same(t, before, e.snapshot(t))
}

// TestReappliesWhenUserMovedAway: if someone made another setting the
// default, the next Apply makes endymail's the default again.
func TestReappliesWhenUserMovedAway(t *testing.T) {
	e := newEnv(t)
	c := e.configurator()
	m := e.material(t, alice)
	mustApply(t, c, m)
	orig := readHex(t, "testdata/outlook-settings-x64.hex")
	if err := e.user.Set(aliceProfile+`\`+outlook.SecurityKey, outlook.SettingsValue, winreg.BinaryValue(orig)); err != nil {
		t.Fatal(err)
	}
	r := mustApply(t, c, m)
	if len(r.Actions) != 1 || !strings.Contains(r.Actions[0], outlook.SettingsValue) {
		t.Errorf("Apply: got actions %q, want the Outlook setting only", r.Actions)
	}
	e.check(t, m)
	if e.store.imports != 2 {
		t.Errorf("imports: got %d, want 2", e.store.imports)
	}
	mustApply(t, c, m)
	if e.store.imports != 2 {
		t.Errorf("imports after a no-op Apply: got %d, want 2", e.store.imports)
	}
}

func TestFileName(t *testing.T) {
	for in, want := range map[string]string{
		"Alice@Example.com":       "alice@example.com.json",
		`o'neil/x*y?@example.org`: "o%27neil%2Fx%2Ay%3F@example.org.json",
	} {
		if got := fileName(in); got != want {
			t.Errorf("fileName(%q): got %q, want %q", in, got, want)
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(`{"version":1,"undo":{"address":"a@b","thumbprint":"A94A8FE5CCB19BA61C4C0873D391E987982FBBD3",` +
		`"registry":[{"path":"p","name":"n","new":{"kind":3,"bin":"AgAAAA=="}}],` +
		`"wlmail":[{"file":"f","element":"SMTP_Certificate","new":"a94a"}]},"imported":["A94A8FE5CCB19BA61C4C0873D391E987982FBBD3"]}`))
	f.Add([]byte(`{"version":2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			if !errors.Is(err, clients.ErrCorrupt) {
				t.Errorf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if r.Undo.Address == "" || r.Version != recordVersion {
			t.Errorf("accepted %+v", r)
		}
	})
}

// same fails t unless want and got hold the same entries.
func same(t *testing.T, want, got map[string][]byte) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok || !bytes.Equal(w, g) {
			t.Errorf("%s: changed or gone", k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: new", k)
		}
	}
}

// The agent and a CLI command apply the same address at once (two
// configurators on one state folder): one does the work, the other finds it
// in place, and one Revert brings back exactly what the user had.
func TestConcurrentApplyThenRevert(t *testing.T) {
	for round := range 10 {
		e := newEnv(t)
		m := e.material(t, alice)
		before := e.snapshot(t)
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				if _, err := e.configurator().Apply(t.Context(), m); err != nil {
					t.Errorf("round %d: apply: %v", round, err)
				}
			})
		}
		wg.Wait()
		e.check(t, m)
		if _, err := e.configurator().Revert(t.Context(), alice); err != nil {
			t.Fatalf("round %d: revert: %v", round, err)
		}
		same(t, before, e.snapshot(t))
	}
}
