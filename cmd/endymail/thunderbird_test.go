//go:build linux

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/endymail/endymail/clients/thunderbird"
	"github.com/endymail/endymail/clients/thunderbird/prefs"
	"github.com/endymail/endymail/clients/thunderbird/tbtest"
	"github.com/endymail/endymail/internal/interop"
	"github.com/endymail/endymail/internal/smtpsink"
)

// cli runs the real endymail binary with HOME set to the test's home, where
// the Thunderbird profile is found through ~/.thunderbird/profiles.ini.
type cli struct {
	t      *testing.T
	bin    string
	home   string // HOME
	device string // --home
}

func (c *cli) run(args ...string) string {
	c.t.Helper()
	out, err := c.try(args...)
	if err != nil {
		c.t.Fatalf("endymail %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (c *cli) try(args ...string) (string, error) {
	cmd := exec.Command(c.bin, append(args, "--home", c.device)...)
	cmd.Env = append(os.Environ(), "HOME="+c.home)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestEnableConfiguresThunderbird is the proof for the Thunderbird
// integration: `endymail enable` on a profile the real Thunderbird made, then
// Thunderbird itself finds the certificate and key, and sends signed and
// encrypted S/MIME and PGP/MIME mail through its own send path that openssl
// and gpg (with the keys from `endymail export`) decrypt and verify. Then:
// configure again changes nothing, disable while Thunderbird runs writes
// nothing, and disable after it closes restores the identity's settings.
func TestEnableConfiguresThunderbird(t *testing.T) {
	interop.Need(t, "openssl", "openssl")
	interop.Need(t, "gpg", "gnupg")
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	base := tbtest.NewProfile(t)
	tbtest.FirstStart(t, base)
	profile := tbtest.CopyProfile(t, base)
	sink := smtpsink.Start(t)
	tb := tbtest.Start(t, profile, tbtest.Options{})
	if _, err := tb.AddMailAccount(ctx, tbtest.Account{Address: alice, Name: "Alice", IMAPPort: 1, SMTPHost: sink.Host(), SMTPPort: sink.Port()}); err != nil {
		t.Fatal(err)
	}
	if err := tb.Quit(); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, ".thunderbird"), 0o700)
	ini := "[Profile0]\nName=default\nIsRelative=0\nPath=" + profile + "\nDefault=1\n\n[General]\nStartWithLastProfile=1\nVersion=2\n"
	os.WriteFile(filepath.Join(home, ".thunderbird", "profiles.ini"), []byte(ini), 0o644)
	before := identityPrefs(t, profile)

	m := startMeshProcess(t, t.TempDir(), "127.0.0.1:0")
	c := &cli{t: t, bin: bin, home: home, device: filepath.Join(home, "endymail")}
	c.run("init", alice, "--mesh", m.url, "--device-name", "laptop")
	out := c.run("enable", alice, "--name", "Alice", "--smime-key", "rsa2048")
	if !strings.Contains(out, "thunderbird: ") || strings.Contains(out, "thunderbird: found no identity") {
		t.Fatalf("enable did not configure Thunderbird:\n%s", out)
	}
	if out := c.run("configure"); !strings.Contains(out, "thunderbird: already configured") {
		t.Errorf("configure a second time:\n%s\nwant 'already configured'", out)
	}
	if out := c.run("accounts"); !strings.Contains(out, "endymail enabled") {
		t.Errorf("accounts after enable:\n%s", out)
	}
	proveInThunderbird(t, ctx, c, tbtest.CopyProfile(t, profile), sink)

	// Disable while Thunderbird runs: nothing is written.
	tb = tbtest.Start(t, profile, tbtest.Options{})
	prefsBefore, _ := os.ReadFile(filepath.Join(profile, "prefs.js"))
	if out := c.run("disable", alice); !strings.Contains(out, "thunderbird: running") {
		t.Errorf("disable with Thunderbird running:\n%s", out)
	}
	prefsAfter, _ := os.ReadFile(filepath.Join(profile, "prefs.js"))
	if !bytes.Equal(prefsBefore, prefsAfter) {
		t.Error("prefs.js changed while Thunderbird was running")
	}
	if err := tb.Quit(); err != nil {
		t.Fatal(err)
	}
	// After it closes, disable again restores the identity's settings.
	c.run("disable", alice)
	after := identityPrefs(t, profile)
	for _, k := range []string{"sign_mail", "signing_cert_dbkey", "openpgp_key_id", "e2etechpref"} {
		if before[k] != after[k] {
			t.Errorf("after disable, %s = %q, want the original %q", k, after[k], before[k])
		}
	}
}

// proveInThunderbird starts Thunderbird on a copy of the configured profile
// and sends with each technology.
func proveInThunderbird(t *testing.T, ctx context.Context, c *cli, profile string, sink *smtpsink.Sink) {
	tb := tbtest.Start(t, profile, tbtest.Options{})
	defer tb.Quit()
	prefs, err := tb.IdentityPrefs(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	dbkey, _ := prefs["signing_cert_dbkey"].(string)
	keyID, _ := prefs["openpgp_key_id"].(string)
	st, err := tb.CertByDBKey(ctx, dbkey)
	if err != nil || !st.Found || st.Signer != 0 || st.Recipient != 0 {
		t.Fatalf("Thunderbird's NSS on the identity's dbkey %q: %+v %v", dbkey, st, err)
	}
	ks, err := tb.OwnOpenPGPKeyUsable(ctx, keyID)
	if err != nil || !ks.Found || !ks.SecretAvailable || !ks.Personal {
		t.Fatalf("Thunderbird's OpenPGP on key %q: %+v %v", keyID, ks, err)
	}
	// With no per-message choice (what a new compose window selects from
	// the identity's settings, then mail.e2ee.auto_enable: Alice writes to
	// herself and her own key is accepted as personal) the message is
	// signed and encrypted with OpenPGP.
	for _, m := range []tbtest.Message{
		{From: alice, To: []string{alice}, Subject: "auto", Body: "Auto signed.\n", Auto: true},
		{From: alice, To: []string{alice}, Subject: "pgp", Body: "Auto secret.\n", Sign: true, Encrypt: true, Tech: tbtest.OpenPGP},
		{From: alice, To: []string{alice}, Subject: "smime", Body: "S/MIME secret.\n", Sign: true, Encrypt: true, Tech: tbtest.SMIME},
	} {
		if _, err := tb.SendMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := sink.Wait(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	auto := string(msgs[0].Data)
	if !strings.Contains(auto, "multipart/encrypted") || !strings.Contains(auto, "application/pgp-encrypted") ||
		strings.Contains(auto, "Auto signed.") || !strings.Contains(auto, "From: Alice <alice@example.com>") {
		t.Errorf("Thunderbird's automatic message is not PGP/MIME encrypted:\n%.1500s", auto)
	}
	msgs = msgs[1:]
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("export pass\n"), 0o600)
	secret := c.run("export", alice, "--format", "openpgp-secret", "--password-file", pw)
	public := c.run("export", alice, "--format", "openpgp-public")
	plain, status := tbtest.DecryptPGPMIME(t, msgs[0].Data, secret, "export pass", public)
	if !bytes.Contains(plain, []byte("Auto secret.")) || !strings.Contains(status, "VALIDSIG ") {
		t.Errorf("gpg on Thunderbird's automatic message: %q\n%s", plain, status)
	}
	keyPEM, certPEM, caPEM := exportP12(t, c, alice, pw)
	res := tbtest.DecryptVerifySMIME(t, msgs[1].Data, keyPEM, certPEM, caPEM)
	if !bytes.Contains(res.Content, []byte("S/MIME secret.")) || res.Signer == nil || res.Signer.EmailAddresses[0] != alice {
		t.Errorf("openssl on Thunderbird's S/MIME message: %q signer %v", res.Content, res.Signer)
	}
}

// identityPrefs reads the mail.identity prefs of alice's identity.
func identityPrefs(t *testing.T, profile string) map[string]string {
	src, err := os.ReadFile(filepath.Join(profile, "prefs.js"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := prefs.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, id := range thunderbird.Identities(f) {
		if !strings.EqualFold(id.Address, alice) {
			continue
		}
		for _, k := range []string{"sign_mail", "signing_cert_dbkey", "openpgp_key_id", "e2etechpref"} {
			out[k], _ = f.Raw("mail.identity." + id.Key + "." + k)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no identity for %s in %s", alice, profile)
	}
	return out
}

const alice = "alice@example.com"
