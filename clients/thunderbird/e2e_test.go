//go:build linux

package thunderbird_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/clients/thunderbird"
	"github.com/endymail/endymail/clients/thunderbird/tbtest"
	"github.com/endymail/endymail/internal/interop"
	"github.com/endymail/endymail/internal/smtpsink"
)

const alice = "alice@example.com"

// TestThunderbirdUsesAppliedConfiguration is the end-to-end proof: after
// Apply on a profile the real Thunderbird made (account created through
// MailServices), Thunderbird itself finds the certificate by the dbkey and
// trusts it for mail, finds the OpenPGP key usable as the sender's own, and
// sends signed+encrypted mail with each technology through its own send
// path, which openssl and gpg then decrypt and verify.
func TestThunderbirdUsesAppliedConfiguration(t *testing.T) {
	openssl := interop.Need(t, "openssl", "openssl")
	gpg := interop.Need(t, "gpg", "gnupg")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	base := tbtest.NewProfile(t)
	tbtest.FirstStart(t, base)
	dir := tbtest.CopyProfile(t, base)
	sink := smtpsink.Start(t)
	tb := tbtest.Start(t, dir, tbtest.Options{})
	if _, err := tb.AddMailAccount(ctx, tbtest.Account{Address: alice, Name: "Alice", IMAPPort: 1,
		SMTPHost: sink.Host(), SMTPPort: sink.Port()}); err != nil {
		t.Fatal(err)
	}
	if err := tb.Quit(); err != nil {
		t.Fatal(err)
	}

	ca, caKey := thunderbird.TestCA(t)
	m := thunderbird.TestMaterialFrom(t, alice, ca, caKey)
	r, err := thunderbird.New(thunderbird.Options{Profiles: []string{dir}}).Apply(ctx, m)
	if err != nil || len(r.Deferred) > 0 {
		t.Fatalf("Apply: %+v, %v", r, err)
	}

	tb = tbtest.Start(t, dir, tbtest.Options{})
	checkInThunderbird(t, ctx, tb, m)
	for i, tech := range []tbtest.Tech{tbtest.OpenPGP, tbtest.SMIME} {
		msg := tbtest.Message{From: alice, To: []string{alice}, Subject: "e2e " + string(tech),
			Body: "Secret " + string(tech) + ".\n", Sign: true, Encrypt: true, Tech: tech}
		if _, err := tb.SendMessage(ctx, msg); err != nil {
			t.Fatalf("send %s: %v", tech, err)
		}
		msgs, err := sink.Wait(ctx, i+1)
		if err != nil {
			t.Fatal(err)
		}
		raw := msgs[i].Data
		if bytes.Contains(raw, []byte(msg.Body)) {
			t.Errorf("%s: body sent in clear text", tech)
		}
		if tech == tbtest.OpenPGP {
			checkGPG(t, gpg, m, m, raw, msg.Body)
		} else {
			checkOpenSSL(t, openssl, m, m.SMIME.CA, raw, msg.Body)
		}
	}
	if err := tb.Quit(); err != nil {
		t.Error(err)
	}
}

func checkInThunderbird(t *testing.T, ctx context.Context, tb *tbtest.Instance, m clients.Material) {
	t.Helper()
	dbkey, err := thunderbird.DBKey(m.SMIME.Cert)
	if err != nil {
		t.Fatal(err)
	}
	prefs, err := tb.IdentityPrefs(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if prefs["signing_cert_dbkey"] != dbkey || prefs["openpgp_key_id"] != m.OpenPGP.Fingerprint[24:] ||
		prefs["e2etechpref"] != float64(2) || prefs["sign_mail"] != true {
		t.Errorf("identity prefs as Thunderbird reads them: %v", prefs)
	}
	st, err := tb.CertByDBKey(ctx, dbkey)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Found || st.Signer != 0 || st.Recipient != 0 || st.DBKey != dbkey {
		t.Errorf("Thunderbird's NSS on the dbkey: got %+v, want the certificate valid for signing and encryption", st)
	}
	ks, err := tb.OwnOpenPGPKeyUsable(ctx, m.OpenPGP.Fingerprint[24:])
	if err != nil {
		t.Fatal(err)
	}
	if !ks.Found || !ks.SecretAvailable || !ks.Personal || ks.ErrorMsg != "" {
		t.Errorf("Thunderbird's OpenPGP on the key: got %+v, want usable own key", ks)
	}
}

func run(t *testing.T, stdin []byte, bin string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// checkGPG decrypts raw with recipient's secret key in a fresh gpg home and
// checks the body and a valid signature by sender.
func checkGPG(t *testing.T, gpg string, recipient, sender clients.Material, raw []byte, body string) {
	t.Helper()
	home := t.TempDir()
	run(t, recipient.OpenPGP.Secret, gpg, "--homedir", home, "--batch", "--import")
	run(t, sender.OpenPGP.Public, gpg, "--homedir", home, "--batch", "--import")
	i := bytes.Index(raw, []byte("-----BEGIN PGP MESSAGE-----"))
	j := bytes.Index(raw, []byte("-----END PGP MESSAGE-----"))
	if i < 0 || j < i {
		t.Fatalf("no PGP MESSAGE in the sent mail:\n%.2000s", raw)
	}
	status := filepath.Join(home, "status")
	plain := run(t, raw[i:j+25], gpg, "--homedir", home, "--batch", "--status-file", status, "--decrypt")
	st, _ := os.ReadFile(status)
	if !bytes.Contains(plain, []byte(strings.TrimSpace(body))) || !strings.Contains(string(st), "VALIDSIG "+sender.OpenPGP.Fingerprint) {
		t.Errorf("gpg: plaintext %q, status:\n%s\nwant the body and a valid signature by %s", plain, st, sender.OpenPGP.Fingerprint)
	}
}

// checkOpenSSL decrypts raw with recipient's S/MIME key and verifies the
// signature against ca with openssl.
func checkOpenSSL(t *testing.T, openssl string, recipient clients.Material, ca *x509.Certificate, raw []byte, body string) {
	t.Helper()
	key, cert, _, err := pkcs12.DecodeChain(recipient.SMIME.PKCS12, recipient.SMIME.Password)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
		return p
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile, certFile := write("key.pem", "PRIVATE KEY", keyDER), write("cert.pem", "CERTIFICATE", cert.Raw)
	caFile := write("ca.pem", "CERTIFICATE", ca.Raw)
	msg := filepath.Join(dir, "sent.eml")
	os.WriteFile(msg, raw, 0o600)
	signed := run(t, nil, openssl, "smime", "-decrypt", "-in", msg, "-inkey", keyFile, "-recip", certFile)
	content := run(t, signed, openssl, "smime", "-verify", "-CAfile", caFile)
	if !bytes.Contains(content, []byte(strings.TrimSpace(body))) {
		t.Errorf("openssl: verified content %q lacks the body", content)
	}
}
