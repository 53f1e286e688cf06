//go:build linux

package thunderbird_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
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

const (
	bob   = "bob@example.org"
	carol = "carol@example.net"
)

// TestImportPeersIntoThunderbird is the proof for correspondents' keys:
// Bob is added to Alice's address book through Thunderbird's own address
// book API; Contacts finds him; ImportPeers writes his keys while
// Thunderbird is closed (and refuses while it runs); then Thunderbird
// itself finds Bob's OpenPGP key accepted as unverified and his S/MIME
// certificate valid for his address, and — with mail.e2ee.auto_enable, as
// the compose window decides — encrypts to him without being asked, with
// each technology; gpg and openssl with Bob's keys decrypt what arrived.
func TestImportPeersIntoThunderbird(t *testing.T) {
	openssl := interop.Need(t, "openssl", "openssl")
	gpg := interop.Need(t, "gpg", "gnupg")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sink := smtpsink.Start(t)
	tb := aliceWithBobInAddressBook(t, ctx, sink)
	dir := tb.Dir
	c := thunderbird.New(thunderbird.Options{Profiles: []string{dir}})
	got, err := c.Contacts(ctx) // while Thunderbird runs: read-only, no lock
	if err != nil || !slices.Contains(got, bob) {
		t.Fatalf("Contacts with Thunderbird running: got %v, %v; want %s among them", got, err, bob)
	}
	ca, caKey := thunderbird.TestCA(t)
	am := thunderbird.TestMaterialFrom(t, alice, ca, caKey)
	bobCA, bobCAKey := thunderbird.TestCA(t)
	bm := thunderbird.TestMaterialFrom(t, bob, bobCA, bobCAKey)
	peer := clients.Peer{Address: bob, OpenPGP: bm.OpenPGP.Public, SMIME: []*x509.Certificate{bm.SMIME.Cert, bobCA}}
	if r, err := c.ImportPeers(ctx, []clients.Peer{peer}); !errors.Is(err, clients.ErrClientRunning) || r.Changed() {
		t.Errorf("ImportPeers while Thunderbird runs: got %+v, %v; want ErrClientRunning and no change", r, err)
	}
	if err := tb.Quit(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Contacts(ctx); err != nil || !slices.Contains(got, bob) {
		t.Fatalf("Contacts after quit: got %v, %v", got, err)
	}
	if _, err := c.Apply(ctx, am); err != nil {
		t.Fatal(err)
	}
	r, err := c.ImportPeers(ctx, []clients.Peer{peer})
	if err != nil || len(r.Actions) != 3 || len(r.Deferred) > 0 {
		t.Fatalf("ImportPeers: got %+v, %v; want 3 actions (key, acceptance, certificate)", r, err)
	}
	if r, err := c.ImportPeers(ctx, []clients.Peer{peer}); err != nil || r.Changed() {
		t.Errorf("second ImportPeers: got %+v, %v; want no change", r, err)
	}
	checkNoPeerAnchor(t, dir, bobCA)
	addCarolByBob(t, dir, bm, bobCAKey)

	tb = tbtest.Start(t, dir, tbtest.Options{})
	pk, err := tb.PeerKeys(ctx, bob, bm.OpenPGP.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	if !pk.OpenPGPFound || pk.SecretAvailable || pk.Acceptance != "unverified" || !pk.EmailDecided ||
		!slices.Contains(pk.Readiness, "accepted") || !pk.SMIMEFound {
		t.Fatalf("Thunderbird on Bob's keys: got %+v; want his OpenPGP key accepted as unverified for %s and his certificate found", pk, bob)
	}
	if ck, err := tb.PeerKeys(ctx, carol, ""); err != nil || ck.SMIMEFound {
		t.Errorf("Thunderbird on carol, whose certificates Bob issued: got %+v, %v; want none valid", ck, err)
	}
	sendAuto(t, ctx, tb, sink, 1, tbtest.OpenPGP)
	checkGPG(t, gpg, bm, am, lastMessage(t, ctx, sink, 1), "Auto for Bob openpgp.")
	if _, err := tb.SetIdentityAttributes(ctx, alice, map[string]any{"e2etechpref": 1}); err != nil {
		t.Fatal(err)
	}
	sendAuto(t, ctx, tb, sink, 2, tbtest.SMIME)
	checkOpenSSL(t, openssl, bm, am.SMIME.CA, lastMessage(t, ctx, sink, 2), "Auto for Bob smime.")
	if err := tb.Quit(); err != nil {
		t.Fatal(err)
	}
	checkRevertAfterRun(t, ctx, c, dir, bm.OpenPGP.Fingerprint)
}

// checkRevertAfterRun: once Thunderbird has run and used Bob's keys,
// RevertPeers takes them out with no warning (Thunderbird left them as
// endymail wrote them), and Thunderbird itself then finds neither key;
// Alice's own keys and the certificates for carol that came "in mail"
// stay.
func checkRevertAfterRun(t *testing.T, ctx context.Context, c *thunderbird.Configurator, dir, fpr string) {
	t.Helper()
	r, err := c.RevertPeers(ctx)
	if err != nil || !r.Changed() || len(r.Warnings) != 0 {
		t.Fatalf("RevertPeers after Thunderbird ran: got %+v, %v; want actions and no warning", r, err)
	}
	trust := certTrust(t, dir)
	for nick := range trust {
		if strings.HasPrefix(nick, "endymail peer") {
			t.Errorf("NSS database after RevertPeers: %q still there", nick)
		}
	}
	if trust["carol by Bob's CA"] != ",," || trust["carol by Bob's leaf"] != ",," {
		t.Errorf("NSS database after RevertPeers: got %v, want the two certificates for carol kept, untrusted", trust)
	}
	tb := tbtest.Start(t, dir, tbtest.Options{})
	defer tb.Quit()
	pk, err := tb.PeerKeys(ctx, bob, fpr)
	if err != nil || pk.OpenPGPFound || pk.Acceptance != "" || pk.SMIMEFound {
		t.Errorf("Thunderbird on Bob's keys after RevertPeers: got %+v, %v; want neither key", pk, err)
	}
}

// aliceWithBobInAddressBook starts Thunderbird on a new profile with
// Alice's account and adds Bob to her address book through MailServices.ab.
func aliceWithBobInAddressBook(t *testing.T, ctx context.Context, sink *smtpsink.Sink) *tbtest.Instance {
	t.Helper()
	base := tbtest.NewProfile(t)
	tbtest.FirstStart(t, base)
	tb := tbtest.Start(t, tbtest.CopyProfile(t, base), tbtest.Options{})
	if _, err := tb.AddMailAccount(ctx, tbtest.Account{Address: alice, Name: "Alice", IMAPPort: 1,
		SMTPHost: sink.Host(), SMTPPort: sink.Port()}); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.AddContact(ctx, "Bob@Example.org", "Bob"); err != nil {
		t.Fatal(err)
	}
	return tb
}

// addCarolByBob puts into the NSS database certificates for carol that Bob
// could make, as if they had come in signed mail: one signed with his
// leaf's key, one by his CA.
func addCarolByBob(t *testing.T, dir string, bm clients.Material, bobCAKey any) {
	t.Helper()
	bobKey, bobLeaf, _, err := pkcs12.DecodeChain(bm.SMIME.PKCS12, bm.SMIME.Password)
	if err != nil {
		t.Fatal(err)
	}
	forged := map[string]*x509.Certificate{
		"carol by Bob's leaf": thunderbird.TestLeaf(t, carol, bobLeaf, bobKey),
		"carol by Bob's CA":   thunderbird.TestLeaf(t, carol, bm.SMIME.CA, bobCAKey),
	}
	for name, cert := range forged {
		f := filepath.Join(t.TempDir(), "c.der")
		os.WriteFile(f, cert.Raw, 0o600)
		tbtest.RunNSSTool(t, "certutil", "-A", "-d", "sql:"+dir, "-n", name, "-t", ",,", "-i", f)
	}
}

// sendAuto sends to Bob with the compose window's automatic choices and
// checks that Thunderbird chose to sign and encrypt with tech.
func sendAuto(t *testing.T, ctx context.Context, tb *tbtest.Instance, sink *smtpsink.Sink, n int, tech tbtest.Tech) {
	t.Helper()
	sent, err := tb.SendMessage(ctx, tbtest.Message{From: alice, To: []string{bob}, Subject: "auto " + string(tech),
		Body: "Auto for Bob " + string(tech) + ".\n", Auto: true})
	if err != nil {
		t.Fatal(err)
	}
	if !sent.Encrypt || !sent.Sign || sent.Tech != tech {
		t.Errorf("auto-enable to Bob: got %+v, want signed and encrypted with %s", sent, tech)
	}
}

func lastMessage(t *testing.T, ctx context.Context, sink *smtpsink.Sink, n int) []byte {
	t.Helper()
	msgs, err := sink.Wait(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	raw := msgs[n-1].Data
	if bytes.Contains(raw, []byte("Auto for Bob")) {
		t.Errorf("the body travelled in clear text:\n%.1500s", raw)
	}
	return raw
}

// checkNoPeerAnchor checks that Bob's CA is nowhere in the NSS database
// and that only Alice's own CA and Bob's leaf are trusted for mail.
func checkNoPeerAnchor(t *testing.T, dir string, peerCA *x509.Certificate) {
	t.Helper()
	for nick, trust := range certTrust(t, dir) {
		out := tbtest.RunNSSTool(t, "certutil", "-L", "-d", "sql:"+dir, "-n", nick, "-a")
		for rest := []byte(out); ; {
			var b *pem.Block
			if b, rest = pem.Decode(rest); b == nil {
				break
			}
			if bytes.Equal(b.Bytes, peerCA.Raw) {
				t.Errorf("Bob's CA is in Alice's NSS database as %q (%s)", nick, trust)
			}
		}
		mail := strings.Split(trust, ",")[1]
		if strings.Contains(mail, "C") && !strings.HasPrefix(nick, "endymail CA ") && !strings.HasPrefix(nick, "endymail peer "+bob+" ") {
			t.Errorf("%q is trusted for mail (%s)", nick, trust)
		}
	}
}

// certList is `certutil -L` of the profile under Thunderbird's NSS.
func certList(t *testing.T, dir string) string {
	return tbtest.RunNSSTool(t, "certutil", "-L", "-d", "sql:"+dir)
}

// certTrust maps nickname → trust flags.
func certTrust(t *testing.T, dir string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(certList(t, dir), "\n") {
		line = strings.TrimRight(line, " ")
		i := strings.LastIndexByte(line, ' ')
		if i > 0 && strings.Count(line[i+1:], ",") == 2 && strings.TrimSpace(line[:i]) != "" {
			out[strings.TrimSpace(line[:i])] = line[i+1:]
		}
	}
	return out
}
