//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/endymail/endymail/clients/thunderbird/tbtest"
	"github.com/endymail/endymail/internal/interop"
	"github.com/endymail/endymail/internal/smtpsink"
)

const bob = "bob@example.org"

// tbUser is one person: a home with a Thunderbird profile (found through
// ~/.thunderbird/profiles.ini) and an endymail device home.
type tbUser struct {
	*cli
	profile string
}

// newTBUser makes a Thunderbird profile with one account for address
// (created through MailServices, sending to sink), registers it in a new
// HOME, and runs `endymail init` and `enable` there. setup runs in the
// Thunderbird before it quits.
func newTBUser(t *testing.T, ctx context.Context, base, address, name, mesh string, sink *smtpsink.Sink, setup func(*tbtest.Instance)) *tbUser {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	profile := tbtest.CopyProfile(t, base)
	tb := tbtest.Start(t, profile, tbtest.Options{})
	if _, err := tb.AddMailAccount(ctx, tbtest.Account{Address: address, Name: name, IMAPPort: 1, SMTPHost: sink.Host(), SMTPPort: sink.Port()}); err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(tb)
	}
	if err := tb.Quit(); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, ".thunderbird"), 0o700)
	ini := "[Profile0]\nName=default\nIsRelative=0\nPath=" + profile + "\nDefault=1\n\n[General]\nStartWithLastProfile=1\nVersion=2\n"
	os.WriteFile(filepath.Join(home, ".thunderbird", "profiles.ini"), []byte(ini), 0o644)
	u := &tbUser{cli: &cli{t: t, bin: bin, home: home, device: filepath.Join(home, "endymail")}, profile: profile}
	u.run("init", address, "--mesh", mesh, "--device-name", name+"'s laptop")
	if out := u.run("enable", address, "--name", name, "--smime-key", "rsa2048"); !strings.Contains(out, "thunderbird: ") {
		t.Fatalf("enable did not configure %s's Thunderbird:\n%s", name, out)
	}
	return u
}

// TestContactsSyncEncryptsToBob is issue 7's proof that two endymail users
// who never exchanged keys send each other encrypted mail from Thunderbird
// with no step beyond `endymail enable`: Alice and Bob each have an account
// on one mesh service and a Thunderbird profile configured by `endymail
// enable`; Bob is in Alice's address book (added through Thunderbird's own
// address book API); `endymail contacts sync` on Alice's device finds his
// keys on the mesh and imports them; then Alice's real Thunderbird, with
// mail.e2ee.auto_enable as the compose window applies it, encrypts to Bob
// without being asked and sends through its own send path — OpenPGP first,
// S/MIME after `endymail configure --prefer smime` — and Bob's keys from
// `endymail export` decrypt what arrived with gpg and openssl.
func TestContactsSyncEncryptsToBob(t *testing.T) {
	interop.Need(t, "openssl", "openssl")
	interop.Need(t, "gpg", "gnupg")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	base := tbtest.NewProfile(t)
	tbtest.FirstStart(t, base)
	sink := smtpsink.Start(t)
	m := startMeshProcess(t, t.TempDir(), "127.0.0.1:0")

	b := newTBUser(t, ctx, base, bob, "Bob", m.url, sink, nil)
	a := newTBUser(t, ctx, base, alice, "Alice", m.url, sink, func(tb *tbtest.Instance) {
		if _, err := tb.AddContact(ctx, bob, "Bob"); err != nil {
			t.Fatal(err)
		}
	})
	if out := a.run("contacts"); !strings.Contains(out, bob) || !strings.Contains(out, "not known") {
		t.Errorf("contacts before sync:\n%s\nwant %s, not known yet", out, bob)
	}
	out := a.run("contacts", "sync", "--no-wkd")
	if !strings.Contains(out, "added OpenPGP public key") || !strings.Contains(out, "as unverified") || !strings.Contains(out, "S/MIME certificate") {
		t.Fatalf("contacts sync did not import Bob's keys:\n%s", out)
	}
	if out := a.run("contacts", "sync", "--no-wkd"); !strings.Contains(out, "keys already imported") {
		t.Errorf("second contacts sync:\n%s\nwant 'keys already imported'", out)
	}
	var list []contactsView
	if err := json.Unmarshal([]byte(a.run("contacts", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	bobFpr := contactKey(t, list, bob)

	tb := tbtest.Start(t, tbtest.CopyProfile(t, a.profile), tbtest.Options{})
	pk, err := tb.PeerKeys(ctx, bob, bobFpr)
	if err != nil || !pk.OpenPGPFound || pk.Acceptance != "unverified" || !pk.SMIMEFound {
		t.Fatalf("Alice's Thunderbird on Bob's keys: %+v %v", pk, err)
	}
	sendToBob(t, ctx, tb, tbtest.OpenPGP)
	if err := tb.Quit(); err != nil {
		t.Fatal(err)
	}
	a.run("configure", "--prefer", "smime")
	tb = tbtest.Start(t, tbtest.CopyProfile(t, a.profile), tbtest.Options{})
	sendToBob(t, ctx, tb, tbtest.SMIME)
	if err := tb.Quit(); err != nil {
		t.Fatal(err)
	}

	checkBobDecrypts(t, ctx, sink, a, b)

	// Disabling Alice's only address takes Bob's keys out of her profile.
	out = a.run("disable", alice)
	for _, want := range []string{"no address is enabled any more", "removed OpenPGP key " + bobFpr + " of " + bob, "removed " + bob + "'s S/MIME certificate"} {
		if !strings.Contains(out, want) {
			t.Errorf("disable of the last address:\n%s\nwant %q", out, want)
		}
	}
	if out := a.run("contacts", "revert"); !strings.Contains(out, "no imported contacts' keys to take out") {
		t.Errorf("contacts revert after disable:\n%s\nwant nothing left to take out", out)
	}
}

// checkBobDecrypts decrypts the two messages at the sink with Bob's keys
// from `endymail export` (gpg, openssl) and checks Alice's signatures.
func checkBobDecrypts(t *testing.T, ctx context.Context, sink *smtpsink.Sink, a, b *tbUser) {
	t.Helper()
	msgs, err := sink.Wait(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range msgs {
		if bytes.Contains(msg.Data, []byte("for Bob")) {
			t.Errorf("a message to Bob travelled in clear text:\n%.1500s", msg.Data)
		}
	}
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("export pass\n"), 0o600)
	secret := b.run("export", bob, "--format", "openpgp-secret", "--password-file", pw)
	alicePublic := a.run("export", alice, "--format", "openpgp-public")
	plain, status := tbtest.DecryptPGPMIME(t, msgs[0].Data, secret, "export pass", alicePublic)
	if !bytes.Contains(plain, []byte("OpenPGP for Bob.")) || !strings.Contains(status, "VALIDSIG ") {
		t.Errorf("gpg with Bob's key on Alice's automatic message: %q\n%s", plain, status)
	}
	keyPEM, certPEM, _ := exportP12(t, b.cli, bob, pw)
	_, _, aliceCA := exportP12(t, a.cli, alice, pw)
	res := tbtest.DecryptVerifySMIME(t, msgs[1].Data, keyPEM, certPEM, aliceCA)
	if !bytes.Contains(res.Content, []byte("S/MIME for Bob.")) || res.Signer == nil || res.Signer.EmailAddresses[0] != alice {
		t.Errorf("openssl with Bob's key on Alice's automatic message: %q signer %v", res.Content, res.Signer)
	}
}

// exportP12 is `endymail export ADDRESS --format p12` as PEM: the key, the
// certificate and the personal CA.
func exportP12(t *testing.T, c *cli, addr, pw string) (keyPEM, certPEM, caPEM []byte) {
	t.Helper()
	p12file := filepath.Join(t.TempDir(), "x.p12")
	c.run("export", addr, "--format", "p12", "--password-file", pw, "--out", p12file)
	data, _ := os.ReadFile(p12file)
	key, cert, chain, err := pkcs12.DecodeChain(data, "export pass")
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: chain[len(chain)-1].Raw})
}

// contactKey returns the OpenPGP fingerprint `contacts --json` shows for
// addr, failing unless the key was found.
func contactKey(t *testing.T, list []contactsView, addr string) string {
	t.Helper()
	for _, v := range list {
		for _, c := range v.Contacts {
			if c.Address == addr && c.State == "found" && c.OpenPGP != "" && c.SMIME != "" {
				return c.OpenPGP
			}
		}
	}
	t.Fatalf("contacts --json lists no found keys for %s: %+v", addr, list)
	return ""
}

// sendToBob sends with what the compose window chooses by itself and checks
// that it chose to sign and encrypt with tech.
func sendToBob(t *testing.T, ctx context.Context, tb *tbtest.Instance, tech tbtest.Tech) {
	t.Helper()
	body := map[tbtest.Tech]string{tbtest.OpenPGP: "OpenPGP for Bob.\n", tbtest.SMIME: "S/MIME for Bob.\n"}[tech]
	sent, err := tb.SendMessage(ctx, tbtest.Message{From: alice, To: []string{bob}, Subject: "to Bob " + string(tech), Body: body, Auto: true})
	if err != nil {
		t.Fatal(err)
	}
	if !sent.Encrypt || !sent.Sign || sent.Tech != tech {
		t.Fatalf("Alice's Thunderbird composing to Bob chose %+v, want signed and encrypted with %s", sent, tech)
	}
}
