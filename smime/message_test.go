package smime

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	for _, kt := range []KeyType{RSA3072, RSA2048, P256} {
		t.Run(kt.String(), func(t *testing.T) {
			id := testIdentity(t, "alice@example.com", kt)
			signed, err := Sign(sampleMessage("alice@example.com"), id)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"Subject: quarterly figures\r\n", "Message-ID: <1@example.com>\r\n",
				"multipart/signed", "micalg=sha-256", `protocol="application/pkcs7-signature"`} {
				if !bytes.Contains(signed, []byte(want)) {
					t.Errorf("signed message lacks %q", want)
				}
			}
			v, err := Verify(signed, testRoots(t), testNow)
			if err != nil {
				t.Fatal(err)
			}
			if v.From != "alice@example.com" || !v.Signer.Equal(id.Cert) || len(v.Chains) == 0 {
				t.Errorf("got From %q signer %s, want alice and her certificate", v.From, v.Signer.Subject)
			}
			if !bytes.Contains(v.Message, []byte("Subject: quarterly figures\r\n")) ||
				!bytes.HasSuffix(v.Message, []byte("\r\n\r\nHello Bob,\r\nthe figures are in.\r\n")) {
				t.Errorf("got content %q", v.Message)
			}
			// Mail stores often keep messages with LF line ends.
			lf := bytes.ReplaceAll(signed, []byte("\r\n"), []byte("\n"))
			if _, err := Verify(lf, testRoots(t), testNow); err != nil {
				t.Errorf("LF copy: %v", err)
			}
		})
	}
}

func TestEncryptDecrypt(t *testing.T) {
	alice := testIdentity(t, "alice@example.com", RSA3072)
	bob := testIdentity(t, "bob@example.com", RSA2048)
	msg := sampleMessage("alice@example.com")
	enc, err := SignAndEncrypt(msg, alice, []*x509.Certificate{alice.Cert, bob.Cert})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(enc, []byte("figures are in")) || !bytes.Contains(enc, []byte("Subject: quarterly figures")) {
		t.Error("encrypted message shows the body or lost the subject")
	}
	for _, id := range []*Identity{alice, bob} {
		dec, err := Decrypt(enc, id)
		if err != nil {
			t.Fatalf("%s: %v", id.Cert.EmailAddresses[0], err)
		}
		v, err := Verify(dec, testRoots(t), testNow)
		if err != nil {
			t.Fatalf("%s: verify: %v", id.Cert.EmailAddresses[0], err)
		}
		if !bytes.HasSuffix(v.Message, []byte("Hello Bob,\r\nthe figures are in.\r\n")) {
			t.Errorf("got %q", v.Message)
		}
	}
	plainEnc, err := Encrypt(msg, []*x509.Certificate{bob.Cert})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := Decrypt(bytes.ReplaceAll(plainEnc, []byte("\r\n"), []byte("\n")), bob)
	if err != nil {
		t.Fatalf("LF copy: %v", err)
	}
	if !bytes.Equal(dec, msg) {
		t.Errorf("got\n%q\nwant\n%q", dec, msg)
	}
}

// TestLegacyXPKCS7Types accepts the pre-RFC 3851 x- media types that older
// Outlook versions still send.
func TestLegacyXPKCS7Types(t *testing.T) {
	signed := mustSign(t, testIdentity(t, "alice@example.com", RSA2048))
	legacy := bytes.ReplaceAll(signed, []byte("application/pkcs7-signature"), []byte("application/x-pkcs7-signature"))
	if bytes.Equal(legacy, signed) {
		t.Fatal("fixture has no application/pkcs7-signature")
	}
	if _, err := Verify(legacy, testRoots(t), testNow); err != nil {
		t.Error(err)
	}
}

func TestEightBitBodyIsQuotedPrintable(t *testing.T) {
	alice := testIdentity(t, "alice@example.com", P256)
	msg := []byte("From: alice@example.com\nSubject: x\n\nGrüße\n")
	signed, err := Sign(msg, alice)
	if err != nil {
		t.Fatal(err)
	}
	if !isASCII(signed) || !bytes.Contains(signed, []byte("Gr=C3=BC=C3=9Fe")) {
		t.Errorf("got %q, want a 7-bit quoted-printable body", signed)
	}
	if _, err := Verify(signed, testRoots(t), testNow); err != nil {
		t.Error(err)
	}
}

func TestOpaqueSignedData(t *testing.T) {
	alice := testIdentity(t, "alice@example.com", RSA2048)
	msg := []byte("From: alice@example.com\r\nSubject: opaque\r\n" +
		"Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n")
	der := opaqueSignedData(t, []byte("Content-Type: text/plain\r\n\r\nopaque body\r\n"), alice)
	var b bytes.Buffer
	writeWrapped(&b, der)
	v, err := Verify(append(msg, b.Bytes()...), testRoots(t), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(v.Message, []byte("opaque body\r\n")) || !bytes.HasPrefix(v.Message, []byte("From: alice@example.com\r\n")) {
		t.Errorf("got %q", v.Message)
	}
}

func TestMessageErrors(t *testing.T) {
	alice := testIdentity(t, "alice@example.com", RSA2048)
	bob := testIdentity(t, "bob@example.com", RSA2048)
	carol := testIdentity(t, "carol@example.com", RSA2048)
	signed, err := Sign(sampleMessage("alice@example.com"), alice)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := SignAndEncrypt(sampleMessage("alice@example.com"), alice, []*x509.Certificate{bob.Cert})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewCA("mallory", testNow)
	otherRoots := x509.NewCertPool()
	otherRoots.AddCert(other.Cert)
	verify := func(m []byte) error { _, err := Verify(m, testRoots(t), testNow); return err }
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"truncated signed", verify(signed[:len(signed)/2]), ErrMalformed},
		{"truncated encrypted", decryptErr(enc[:len(enc)-300], bob), ErrMalformed},
		{"tampered body", verify(bytes.Replace(signed, []byte("figures are in"), []byte("figures are out"), 1)), ErrBadSignature},
		{"tampered signature", verify(tamperSignature(signed)), ErrBadSignature},
		{"wrong recipient", decryptErr(enc, carol), ErrNotRecipient},
		{"expired", verifyAt(signed, testRoots(t), alice.Cert.NotAfter.Add(time.Hour)), ErrCertExpired},
		{"not yet valid", verifyAt(signed, testRoots(t), alice.Cert.NotBefore.Add(-time.Hour)), ErrCertExpired},
		{"wrong from", verify(bytes.Replace(signed, []byte("From: Alice <alice@"), []byte("From: Alice <mallory@"), 1)), ErrFromMismatch},
		{"untrusted", verifyAt(signed, otherRoots, testNow), ErrUntrusted},
		{"not signed", verify(sampleMessage("alice@example.com")), ErrNotSigned},
		{"not encrypted", decryptErr(signed, bob), ErrNotEncrypted},
		{"no email protection", verify(mustSign(t, serverAuthIdentity(t))), ErrNoEmailProtection},
		{"encrypt to tls cert", encryptErr(serverAuthIdentity(t).Cert), ErrNoEmailProtection},
		{"encrypt to p256", encryptErr(testIdentity(t, "alice@example.com", P256).Cert), ErrUnsupported},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.err, tc.want)
		}
	}
}

func TestNameConstraintsEnforced(t *testing.T) {
	ca := testCA(t) // constrained to example.com
	id, err := ca.Issue(LeafRequest{Address: "alice@example.org", KeyType: P256, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	signed := mustSign(t, id)
	signed = bytes.Replace(signed, []byte("alice@example.com"), []byte("alice@example.org"), 1)
	if err := verifyAt(signed, testRoots(t), testNow); !errors.Is(err, ErrUntrusted) {
		t.Errorf("got %v, want ErrUntrusted (name constraint violated)", err)
	}
}

func verifyAt(m []byte, roots *x509.CertPool, now time.Time) error {
	_, err := Verify(m, roots, now)
	return err
}

func decryptErr(m []byte, id *Identity) error {
	_, err := Decrypt(m, id)
	return err
}

func encryptErr(c *x509.Certificate) error {
	_, err := Encrypt(sampleMessage("alice@example.com"), []*x509.Certificate{c})
	return err
}

func mustSign(t *testing.T, id *Identity) []byte {
	t.Helper()
	s, err := Sign(sampleMessage("alice@example.com"), id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tamperSignature flips one base64 character inside the signature part.
func tamperSignature(signed []byte) []byte {
	out := bytes.Clone(signed)
	i := bytes.LastIndex(out, []byte("\r\n--")) - 40
	if out[i] == 'A' {
		out[i] = 'B'
	} else {
		out[i] = 'A'
	}
	return out
}

// serverAuthIdentity is a certificate from the test CA for TLS, not mail.
func serverAuthIdentity(t *testing.T) *Identity {
	t.Helper()
	ca := testCA(t)
	base := testIdentity(t, "alice@example.com", RSA2048)
	tmpl := &x509.Certificate{
		SerialNumber:   base.Cert.SerialNumber,
		Subject:        pkix.Name{CommonName: "server"},
		NotBefore:      testNow.Add(-time.Hour),
		NotAfter:       testNow.Add(time.Hour),
		KeyUsage:       x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		EmailAddresses: []string{"alice@example.com"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, base.Key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Subject.CommonName, "server") {
		t.Fatal("bad fixture")
	}
	return &Identity{Cert: c, Key: base.Key, Chain: base.Chain}
}

// TestTamperedKeyTransport flips a bit of the RSA-encrypted content key:
// with implicit rejection the failure is the same ErrDecrypt as for bad
// content, not an RSA padding error.
func TestTamperedKeyTransport(t *testing.T) {
	bob := testIdentity(t, "bob@example.com", RSA2048)
	enc, err := Encrypt(sampleMessage("alice@example.com"), []*x509.Certificate{bob.Cert})
	if err != nil {
		t.Fatal(err)
	}
	der := envelopedDER(t, enc)
	_, ed, err := contentInfo(der)
	if err != nil {
		t.Fatal(err)
	}
	ek := ed.kids[1].kids[0].kids[3].content
	ek[len(ek)/2] ^= 1 // ek aliases der
	_, err = Decrypt(wrapOpaque("From: alice@example.com\r\n", "enveloped-data", der), bob)
	if !errors.Is(err, ErrDecrypt) || strings.Contains(err.Error(), "rsa") {
		t.Errorf("got %v, want ErrDecrypt without an RSA padding error", err)
	}
}

// TestHostilePaddingDoesNotPanic flips ciphertext bits (CBC malleability)
// so the last decrypted byte claims 255 bytes of padding in a 64-byte
// plaintext, which makes smallstep/pkcs7 v0.2.3 panic; Decrypt must return
// ErrDecrypt instead.
func TestHostilePaddingDoesNotPanic(t *testing.T) {
	bob := testIdentity(t, "bob@example.com", RSA2048)
	enc, err := Encrypt([]byte("From: alice@example.com\r\n\r\nhi\r\n"), []*x509.Certificate{bob.Cert})
	if err != nil {
		t.Fatal(err)
	}
	der := envelopedDER(t, enc)
	_, ed, err := contentInfo(der)
	if err != nil {
		t.Fatal(err)
	}
	ct := ed.kids[2].kids[2].content // aliases der
	plainLen := len("Content-Type: text/plain; charset=us-ascii\r\n\r\nhi\r\n")
	if len(ct) != 64 || plainLen != 50 {
		t.Fatalf("fixture changed: ciphertext %d bytes, plaintext %d", len(ct), plainLen)
	}
	ct[len(ct)-17] ^= byte(64-plainLen) ^ 0xff // last plaintext byte becomes 0xff
	_, err = Decrypt(wrapOpaque("From: alice@example.com\r\n", "enveloped-data", der), bob)
	if !errors.Is(err, ErrDecrypt) {
		t.Errorf("got %v, want ErrDecrypt", err)
	}
}
