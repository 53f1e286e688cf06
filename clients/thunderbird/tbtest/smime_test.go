package tbtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/endymail/endymail/internal/smtpsink"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"software.sslmate.com/src/go-pkcs12"
)

// testPKI is a personal CA with S/MIME certificates for alice and bob, as
// PEM files in dir.
type testPKI struct {
	dir              string
	caKey            *ecdsa.PrivateKey
	ca               *x509.Certificate
	alice, bob       *x509.Certificate
	aliceKey, bobKey *rsa.PrivateKey
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          randSerial(t),
		Subject:               pkix.Name{CommonName: "tbtest personal CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	p := &testPKI{dir: t.TempDir(), caKey: caKey}
	p.ca = createCert(t, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	p.alice, p.aliceKey = p.leaf(t, alice)
	p.bob, p.bobKey = p.leaf(t, bob)
	writePEM(t, p.path("ca.pem"), "CERTIFICATE", p.ca.Raw)
	writePEM(t, p.path("bob.pem"), "CERTIFICATE", p.bob.Raw)
	return p
}

func (p *testPKI) path(name string) string { return filepath.Join(p.dir, name) }

func (p *testPKI) leaf(t *testing.T, email string) (*x509.Certificate, *rsa.PrivateKey) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:   randSerial(t),
		Subject:        pkix.Name{CommonName: email},
		EmailAddresses: []string{email},
		NotBefore:      time.Now().Add(-time.Hour),
		NotAfter:       time.Now().Add(24 * time.Hour),
		KeyUsage:       x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}
	return createCert(t, tmpl, p.ca, &key.PublicKey, p.caKey), key
}

func createCert(t *testing.T, tmpl, parent *x509.Certificate, pub, priv any) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func randSerial(t *testing.T) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 72))
	if err != nil {
		t.Fatal(err)
	}
	return n.Add(n, big.NewInt(1<<62)) // positive, at least 64 bits
}

func mustPKCS8(t *testing.T, key any) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// nssDBKey is Thunderbird's dbkey for c: base64 of 8 zero bytes,
// be32(len serial), be32(len issuer), the serial's DER content bytes, the
// issuer DER.
func nssDBKey(t *testing.T, c *x509.Certificate) string {
	t.Helper()
	tbs := cryptobyte.String(c.RawTBSCertificate)
	var inner, serial cryptobyte.String
	if !tbs.ReadASN1(&inner, cbasn1.SEQUENCE) ||
		!inner.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!inner.ReadASN1(&serial, cbasn1.INTEGER) {
		t.Fatal("cannot read the serial number from the certificate")
	}
	b := make([]byte, 16, 16+len(serial)+len(c.RawIssuer))
	binary.BigEndian.PutUint32(b[8:], uint32(len(serial)))
	binary.BigEndian.PutUint32(b[12:], uint32(len(c.RawIssuer)))
	b = append(append(b, serial...), c.RawIssuer...)
	return base64.StdEncoding.EncodeToString(b)
}

// importSMIME puts the CA (trusted for e-mail), alice's certificate and
// key (PKCS#12, go-pkcs12 Modern) and bob's certificate into the NSS
// database of profile dir, with Thunderbird's NSS, while it is not running.
func importSMIME(t *testing.T, p *testPKI, dir string) {
	db := "sql:" + dir
	RunNSSTool(t, "certutil", "-A", "-d", db, "-n", "tbtest personal CA", "-t", ",C,", "-i", p.path("ca.pem"))
	RunNSSTool(t, "certutil", "-A", "-d", db, "-n", bob, "-t", ",,", "-i", p.path("bob.pem"))
	pfx, err := pkcs12.Modern.Encode(p.aliceKey, p.alice, []*x509.Certificate{p.ca}, "tbtest")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.path("alice.p12"), pfx, 0o600); err != nil {
		t.Fatal(err)
	}
	RunNSSTool(t, "pk12util", "-i", p.path("alice.p12"), "-d", db, "-W", "tbtest", "-K", "")
	if out := RunNSSTool(t, "certutil", "-L", "-d", db); !strings.Contains(out, alice) {
		t.Fatalf("certutil -L lacks %s after pk12util:\n%s", alice, out)
	}
}

func testSMIME(t *testing.T, base string) {
	ctx := testCtx(t)
	p := newTestPKI(t)
	dir := CopyProfile(t, base)
	sink := smtpsink.Start(t)
	dbkey := configureSMIMEClosed(t, ctx, p, dir, sink)
	tb := Start(t, dir, Options{})
	if prefs, err := tb.IdentityPrefs(ctx, alice); err != nil || prefs["signing_cert_dbkey"] != dbkey ||
		prefs["encryptionpolicy"] != float64(2) {
		t.Fatalf("identity prefs written while closed: got %v, %v", prefs, err)
	}

	st, err := tb.CertByDBKey(ctx, dbkey)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Found || st.Email != alice || st.Signer != 0 || st.Recipient != 0 {
		t.Fatalf("CertByDBKey(%s): got %+v, want alice's certificate valid for signing and encryption", dbkey, st)
	}
	if st.DBKey != dbkey {
		t.Errorf("NSS dbKey: got %s, want %s", st.DBKey, dbkey)
	}
	stranger, _ := p.leaf(t, "carol@example.test") // never imported
	if st, err := tb.CertByDBKey(ctx, nssDBKey(t, stranger)); err != nil || st.Found {
		t.Errorf("CertByDBKey(unknown certificate): got %+v, %v; want not found", st, err)
	}

	// A dbkey that names no certificate: Thunderbird refuses to send and
	// says why in a modal alert.
	setSMIMEPrefs(t, ctx, tb, nssDBKey(t, stranger))
	msg := Message{From: alice, To: []string{bob}, Subject: "smime " + t.Name(),
		Body: "Secret for Bob.\n", Sign: true, Encrypt: true, Tech: SMIME}
	if _, err := tb.SendMessage(ctx, msg); !errors.Is(err, ErrModalDialog) || !strings.Contains(err.Error(), "signing certificate") {
		t.Fatalf("send with an unknown signing cert: got %v, want ErrModalDialog about the signing certificate", err)
	}

	setSMIMEPrefs(t, ctx, tb, dbkey) // back to what was written while closed
	msg.Sign, msg.Encrypt, msg.Tech, msg.Auto = false, false, "", true
	sent, err := tb.SendMessage(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	if !sent.Sign || !sent.Encrypt || sent.Tech != SMIME {
		t.Errorf("compose defaults: got %+v, want S/MIME signed and encrypted", sent)
	}
	msgs, err := sink.Wait(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	checkSMIMEMessage(t, p, msgs[0].Data)
	if err := tb.Quit(); err != nil {
		t.Error(err)
	}
	if n := len(sink.Messages()); n != 1 {
		t.Errorf("sink got %d messages, want 1 (the failed send must send nothing)", n)
	}
}

// configureSMIMEClosed does what endymail does: with Thunderbird closed,
// it imports the certificates into the profile's NSS database and writes
// alice's S/MIME identity prefs into prefs.js. The account itself is made
// first, in a Thunderbird run that quits. It returns alice's dbkey.
func configureSMIMEClosed(t *testing.T, ctx context.Context, p *testPKI, dir string, sink *smtpsink.Sink) string {
	t.Helper()
	tb := startWithAccount(t, ctx, dir, sink)
	prefs, err := tb.IdentityPrefs(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if err := tb.Quit(); err != nil {
		t.Fatal(err)
	}
	importSMIME(t, p, dir)
	dbkey := nssDBKey(t, p.alice)
	id := "mail.identity." + prefs["key"].(string) + "."
	appendPrefs(t, dir, map[string]any{
		id + "signing_cert_name": alice, id + "signing_cert_dbkey": dbkey,
		id + "encryption_cert_name": alice, id + "encryption_cert_dbkey": dbkey,
		id + "sign_mail": true, id + "encryptionpolicy": 2, id + "e2etechpref": 1,
	})
	return dbkey
}

// appendPrefs appends user_pref lines to dir/prefs.js (later lines win).
func appendPrefs(t *testing.T, dir string, prefs map[string]any) {
	t.Helper()
	var b strings.Builder
	for name, v := range prefs {
		n, _ := json.Marshal(name)
		val, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "user_pref(%s, %s);\n", n, val)
	}
	f, err := os.OpenFile(filepath.Join(dir, "prefs.js"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
}

// setSMIMEPrefs points alice's identity at the certificate with dbkey for
// signing and encryption, both required, S/MIME preferred.
func setSMIMEPrefs(t *testing.T, ctx context.Context, tb *Instance, dbkey string) {
	t.Helper()
	prefs, err := tb.SetIdentityAttributes(ctx, alice, map[string]any{
		"signing_cert_name": alice, "signing_cert_dbkey": dbkey,
		"encryption_cert_name": alice, "encryption_cert_dbkey": dbkey,
		"sign_mail": true, "encryptionpolicy": 2, "e2etechpref": 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if prefs["signing_cert_dbkey"] != dbkey || prefs["encryptionpolicy"] != float64(2) {
		t.Fatalf("identity prefs after set: %v", prefs)
	}
}

// checkSMIMEMessage proves raw is S/MIME enveloped data that bob can
// decrypt with openssl, holding a multipart/signed part that openssl
// verifies against the CA as signed by alice.
func checkSMIMEMessage(t *testing.T, p *testPKI, raw []byte) {
	t.Helper()
	if ct := parseHeader(t, raw).Get("Content-Type"); !strings.HasPrefix(ct, "application/pkcs7-mime") ||
		!strings.Contains(ct, "enveloped-data") {
		t.Fatalf("Content-Type: got %q, want application/pkcs7-mime enveloped-data\n%s", ct, raw)
	}
	if bytes.Contains(raw, []byte("Secret for Bob.")) {
		t.Error("the body travelled in clear text")
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: mustPKCS8(t, p.bobKey)})
	res := DecryptVerifySMIME(t, raw, keyPEM, certPEM(p.bob), certPEM(p.ca))
	if !bytes.HasPrefix(res.Inner, []byte("Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"")) {
		t.Errorf("decrypted part is not S/MIME multipart/signed:\n%.300s", res.Inner)
	}
	if !res.Signer.Equal(p.alice) {
		t.Errorf("signer: got %s, want alice's certificate", res.Signer.Subject)
	}
	if !bytes.Contains(res.Content, []byte("Secret for Bob.")) {
		t.Errorf("verified content lacks the body:\n%s", res.Content)
	}
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
