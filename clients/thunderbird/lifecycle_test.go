//go:build linux

package thunderbird

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/internal/interop"
)

func TestNeverStartedProfileDefersOpenPGP(t *testing.T) {
	bin := interop.Need(t, "thunderbird", "thunderbird")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, prefsFile), []byte(accountPrefs), 0o600); err != nil {
		t.Fatal(err)
	}
	c := New(Options{Profiles: []string{dir}})
	m := testMaterial(t, testAddress)
	r, err := c.Apply(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Deferred) != 1 || !strings.Contains(r.Deferred[0], "started once") {
		t.Errorf("Deferred: got %q, want one note that OpenPGP waits for a first start", r.Deferred)
	}
	prefs, _ := os.ReadFile(filepath.Join(dir, prefsFile))
	if strings.Contains(string(prefs), "openpgp_key_id") || !strings.Contains(string(prefs), `e2etechpref", 1);`) {
		t.Errorf("deferred OpenPGP: prefs must use S/MIME only, got\n%s", prefs)
	}
	for _, f := range []string{secringFile, pubringFile} {
		if fileExists(filepath.Join(dir, f)) {
			t.Errorf("%s written into a profile that never started", f)
		}
	}
	// The first start, then the agent's retry completes the configuration.
	if msg := runUntilStarted(bin, t.TempDir(), dir); msg != "" {
		t.Fatal(msg)
	}
	r, err = c.Apply(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Deferred) != 0 || !r.Changed() {
		t.Errorf("Apply after first start: got %+v, want OpenPGP applied", r)
	}
	checkApplied(t, dir, m)
}

func TestRevertRestoresUserValues(t *testing.T) {
	dir := startedProfile(t)
	other := testOpenPGP(t, "carol@example.net")
	os.WriteFile(filepath.Join(dir, pubringFile), other.Public, 0o600)
	src, _ := os.ReadFile(filepath.Join(dir, prefsFile))
	user := string(src) + "user_pref(\"mail.identity.id1.sign_mail\", false);\n" +
		"user_pref(\"mail.identity.id1.encryptionpolicy\", 2);\n" +
		"user_pref(\"mail.e2ee.auto_enable\", false);\n"
	os.WriteFile(filepath.Join(dir, prefsFile), []byte(user), 0o600)
	before := snapshot(t, dir)
	c := New(Options{Profiles: []string{dir}})
	m := testMaterial(t, testAddress)
	if _, err := c.Apply(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	checkApplied(t, dir, m)
	checkBackup(t, dir, user, string(other.Public))
	pub, _ := os.ReadFile(filepath.Join(dir, pubringFile))
	if !strings.HasPrefix(string(pub), string(other.Public)) {
		t.Errorf("pubring.gpg: the existing key's bytes were not kept")
	}
	if _, err := c.Revert(context.Background(), m.Address); err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, dir)
	for k, v := range before {
		if string(after[k]) != string(v) {
			t.Errorf("after Revert %s differs:\ngot  %q\nwant %q", k, tailOf(after[k]), tailOf(v))
		}
	}
}

func tailOf(b []byte) string {
	if len(b) > 400 {
		return "…" + string(b[len(b)-400:])
	}
	return string(b)
}

func TestPreferSMIMEAndSharedCA(t *testing.T) {
	dir := startedProfile(t)
	c := New(Options{Profiles: []string{dir}})
	ca, caKey := testCA(t)
	m := testMaterialFrom(t, testAddress, ca, caKey)
	m.Prefer = clients.PreferSMIME
	if _, err := c.Apply(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	prefs, _ := os.ReadFile(filepath.Join(dir, prefsFile))
	if !strings.Contains(string(prefs), `user_pref("mail.identity.id1.e2etechpref", 1);`) {
		t.Errorf("Prefer smime: e2etechpref is not 1")
	}
	// bob shares alice's personal CA; reverting alice must keep it.
	bob := testMaterialFrom(t, "bob@example.org", ca, caKey)
	bob.OpenPGP = nil
	if _, err := c.Apply(context.Background(), bob); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Revert(context.Background(), m.Address); err != nil {
		t.Fatal(err)
	}
	list := tbNSS(t, nil, "certutil", "-L", "-d", "sql:"+dir)
	if !strings.Contains(list, caNick(m.SMIME.CA.Raw)) || strings.Contains(list, "endymail alice@example.com") {
		t.Errorf("after reverting alice: want the shared CA kept and alice's certificate gone:\n%s", list)
	}
	prefs, _ = os.ReadFile(filepath.Join(dir, prefsFile))
	if !strings.Contains(string(prefs), `user_pref("mail.e2ee.auto_enable", true);`) ||
		!strings.Contains(string(prefs), `user_pref("mail.identity.id3.sign_mail", true);`) ||
		strings.Contains(string(prefs), "mail.identity.id1.sign_mail") {
		t.Errorf("after reverting alice: want bob's global prefs kept and alice's identity prefs gone")
	}
}

func TestRotationKeepsOldKeysAndRevertsAll(t *testing.T) {
	dir := startedProfile(t)
	before := snapshot(t, dir)
	c := New(Options{Profiles: []string{dir}})
	ca, caKey := testCA(t)
	m1 := testMaterialFrom(t, testAddress, ca, caKey)
	m2 := testMaterialFrom(t, testAddress, ca, caKey)
	for _, m := range []clients.Material{m1, m2} {
		if _, err := c.Apply(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	checkApplied(t, dir, m2)
	sec, _ := os.ReadFile(filepath.Join(dir, secringFile))
	blocks, err := splitKeyring("secring", sec)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 2 || blocks[0].fingerprint != m1.OpenPGP.Fingerprint || blocks[1].fingerprint != m2.OpenPGP.Fingerprint {
		t.Errorf("secring.gpg after rotation: got %d keys, want the old then the new", len(blocks))
	}
	if _, err := c.Revert(context.Background(), testAddress); err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, dir)
	for k, v := range before {
		if string(after[k]) != string(v) {
			t.Errorf("after Revert %s differs:\ngot  %q\nwant %q", k, tailOf(after[k]), tailOf(v))
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("after Revert %s is left", k)
		}
	}
	stamps, _ := filepath.Glob(filepath.Join(dir, backupDir, "2*"))
	if len(stamps) != 1 || fileExists(filepath.Join(stamps[0], secringFile)) {
		t.Errorf("backups after the last Revert: got %v, want only the pre-endymail one (no secring.gpg)", stamps)
	}
	keys := nssKeys(t, stamps[0])
	if strings.Contains(keys, "endymail") {
		t.Errorf("the kept backup's key4.db holds endymail's key:\n%s", keys)
	}
}

func TestUserJSOverrideWarns(t *testing.T) {
	dir := startedProfile(t)
	os.WriteFile(filepath.Join(dir, "user.js"), []byte(`user_pref("mail.identity.id1.sign_mail", false);`+"\n"), 0o600)
	r, err := New(Options{Profiles: []string{dir}}).Apply(context.Background(), testMaterial(t, testAddress))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "mail.identity.id1.sign_mail") {
		t.Errorf("Warnings: got %q, want one about user.js and id1.sign_mail", r.Warnings)
	}
}

// checkBackup checks the one backup folder: prefs.js and pubring.gpg as
// they were, and a manifest with the original literal of a changed pref.
func checkBackup(t *testing.T, dir, prefsJS, pubring string) {
	t.Helper()
	stamps, _ := filepath.Glob(filepath.Join(dir, backupDir, "2*"))
	if len(stamps) != 1 {
		t.Fatalf("backup folders: got %v, want one", stamps)
	}
	for name, want := range map[string]string{prefsFile: prefsJS, pubringFile: pubring} {
		if got, err := os.ReadFile(filepath.Join(stamps[0], name)); err != nil || string(got) != want {
			t.Errorf("backup of %s: not the original (%v)", name, err)
		}
	}
	man, err := os.ReadFile(filepath.Join(stamps[0], "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var mf struct {
		Prefs map[string]struct {
			Existed bool
			Literal string
		} `json:"original_prefs"`
	}
	if err := json.Unmarshal(man, &mf); err != nil {
		t.Fatal(err)
	}
	if p := mf.Prefs["mail.identity.id1.sign_mail"]; !p.Existed || p.Literal != "false" {
		t.Errorf("manifest: original sign_mail got %+v, want existed with literal false", p)
	}
	if p, ok := mf.Prefs["mail.identity.id1.openpgp_key_id"]; !ok || p.Existed {
		t.Errorf("manifest: original openpgp_key_id got %+v (listed %v), want listed as absent", p, ok)
	}
}

func TestDiscoveryFlatpakAndSnap(t *testing.T) {
	home := t.TempDir()
	for _, root := range []string{
		filepath.Join(home, ".var", "app", "org.mozilla.Thunderbird", ".thunderbird"),
		filepath.Join(home, "snap", "thunderbird", "common", ".thunderbird"),
	} {
		copyTreeT(t, startedProfile(t), filepath.Join(root, "abcd1234.default"))
		ini := "[Profile0]\nName=default\nIsRelative=1\nPath=abcd1234.default\nDefault=1\n\n[General]\nStartWithLastProfile=1\nVersion=2\n"
		if err := os.WriteFile(filepath.Join(root, "profiles.ini"), []byte(ini), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := New(Options{Home: home}).Identities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	locations := map[string]int{}
	for _, id := range ids {
		if id.Client != ClientName || id.Enabled {
			t.Errorf("identity %+v: want client thunderbird, not enabled", id)
		}
		locations[id.Location]++
	}
	if len(locations) != 2 || len(ids) != 6 {
		t.Errorf("got %d identities in %d profiles (%v), want 3 in each of 2", len(ids), len(locations), locations)
	}
}
