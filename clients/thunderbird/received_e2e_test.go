//go:build linux

package thunderbird_test

import (
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

	"github.com/endymail/endymail/clients/thunderbird"
	"github.com/endymail/endymail/clients/thunderbird/tbtest"
	"github.com/endymail/endymail/internal/interop"
)

// TestReceivedCertificatesFromThunderbird is the proof for the received
// mail source: the real Thunderbird displays two signed messages (signed
// with openssl cms) in a local folder — Bob's, whose CA the profile trusts
// for mail, and Dave's, whose CA it does not. Thunderbird verifies them on
// display and NSS keeps Bob's certificate (nickname "bob@example.org", no
// trust of its own) and nothing of Dave's. ReceivedCertificates, asked
// while Thunderbird runs and holds the profile, returns Bob's chain and
// nothing for Dave.
func TestReceivedCertificatesFromThunderbird(t *testing.T) {
	openssl := interop.Need(t, "openssl", "openssl")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ca, caKey := thunderbird.TestCA(t)
	bobID := thunderbird.TestMaterialFrom(t, bob, ca, caKey)
	otherCA, otherKey := thunderbird.TestCA(t)
	dave := "dave@example.net"
	daveID := thunderbird.TestMaterialFrom(t, dave, otherCA, otherKey)

	base := tbtest.NewProfile(t)
	tbtest.FirstStart(t, base)
	dir := tbtest.CopyProfile(t, base)
	caFile := filepath.Join(t.TempDir(), "ca.der")
	os.WriteFile(caFile, ca.Raw, 0o600)
	tbtest.RunNSSTool(t, "certutil", "-A", "-d", "sql:"+dir, "-n", "Other Org Mail CA", "-t", ",C,", "-i", caFile)

	tb := tbtest.Start(t, dir, tbtest.Options{})
	for _, m := range []struct {
		from, p12, signed string
		pass              string
		chain             *x509.Certificate
	}{
		{bob, string(bobID.SMIME.PKCS12), "message-signed-ok.svg", bobID.SMIME.Password, ca},
		{dave, string(daveID.SMIME.PKCS12), "", daveID.SMIME.Password, otherCA},
	} {
		raw := signedMessage(t, openssl, m.from, []byte(m.p12), m.pass, m.chain)
		uri, err := tb.DeliverLocal(ctx, "Received", raw)
		if err != nil {
			t.Fatal(err)
		}
		shown, err := tb.DisplayMessage(ctx, uri, 15*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(shown.Body, "Hello from "+m.from) {
			t.Errorf("message from %s: pane shows %q, want its text", m.from, shown.Body)
		}
		if good := m.signed != ""; shown.Signed != m.signed || shown.SignatureStatus == -1 || (shown.SignatureStatus == 0) != good {
			t.Errorf("message from %s: signature icon %q status %d; want icon %q and a verdict that is good: %v",
				m.from, shown.Signed, shown.SignatureStatus, m.signed, good)
		}
	}

	c := thunderbird.New(thunderbird.Options{Profiles: []string{dir}})
	got, err := c.ReceivedCertificates(ctx, "Bob@Example.org") // Thunderbird runs
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0][0].Equal(bobID.SMIME.Cert) || len(got[0]) != 2 || !got[0][1].Equal(ca) {
		t.Errorf("Bob, from Thunderbird's store while it runs: got %d chains; want one, his certificate and his CA", len(got))
	}
	if got, err := c.ReceivedCertificates(ctx, dave); err != nil || len(got) != 0 {
		t.Errorf("Dave (issuer not trusted): got %d chains, %v; want none", len(got), err)
	}
	if err := tb.Quit(); err != nil {
		t.Fatal(err)
	}
	if trust := certTrust(t, dir); trust[bob] != ",," || len(trust) != 2 {
		t.Errorf("NSS database after display: %v; want Bob's certificate as %q at \",,\" beside the CA, nothing of Dave", trust, bob)
	}
}

// signedMessage is a message from addr signed with openssl cms -sign by
// the key and certificate in p12, with chainCA in the signature.
func signedMessage(t *testing.T, openssl, addr string, p12 []byte, pass string, chainCA *x509.Certificate) []byte {
	t.Helper()
	key, cert, _, err := pkcs12.DecodeChain(p12, pass)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	d := t.TempDir()
	write := func(name, typ string, der []byte) string {
		f := filepath.Join(d, name)
		os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
		return f
	}
	body := filepath.Join(d, "body.txt")
	os.WriteFile(body, []byte("Content-Type: text/plain; charset=utf-8\r\n\r\nHello from "+addr+".\r\n"), 0o600)
	cmd := exec.Command(openssl, "cms", "-sign", "-md", "sha256", "-in", body,
		"-signer", write("cert.pem", "CERTIFICATE", cert.Raw), "-inkey", write("key.pem", "PRIVATE KEY", keyDER),
		"-certfile", write("ca.pem", "CERTIFICATE", chainCA.Raw))
	signed, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl cms -sign: %v", err)
	}
	// The Date must be close to the signing time (now): Thunderbird flags
	// a signature made long before or after the message's Date.
	hdr := "From: <" + addr + ">\r\nTo: alice@example.com\r\nSubject: signed by " + addr +
		"\r\nDate: " + time.Now().UTC().Format(time.RFC1123Z) + "\r\nMessage-ID: <" + strings.ReplaceAll(addr, "@", ".") + "@example.org>\r\n"
	return append([]byte(hdr), signed...)
}
