package smime

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/endymail/endymail/internal/interop"
)

// This file holds the plumbing for driving the real peers (OpenSSL 3 and
// NSS's certutil / pk12util / cmsutil); the tests are in interop_test.go.

const p12Password = "endymail test"

// peerFiles are an identity written out the way the peers read it.
type peerFiles struct {
	ca, cert, key, p12 string
	nick               string // NSS nickname pk12util derives from the CN
}

func writeFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func writePeerFiles(t testing.TB, dir string, id *Identity) peerFiles {
	t.Helper()
	key, err := x509.MarshalPKCS8PrivateKey(id.Key)
	if err != nil {
		t.Fatal(err)
	}
	p12, err := id.PKCS12(p12Password)
	if err != nil {
		t.Fatal(err)
	}
	return peerFiles{
		ca:   writeFile(t, filepath.Join(dir, "ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: id.Chain[0].Raw})),
		cert: writeFile(t, filepath.Join(dir, "cert.pem"), id.CertPEM()),
		key:  writeFile(t, filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})),
		p12:  writeFile(t, filepath.Join(dir, "id.p12"), p12),
		nick: id.Cert.Subject.CommonName,
	}
}

// run runs a peer program and returns its standard output; a non-zero exit
// fails the test with the program's output.
func run(t testing.TB, stdin []byte, prog string, args ...string) []byte {
	t.Helper()
	out, err := runErr(stdin, prog, args...)
	if err != nil {
		t.Fatalf("%s %s: %v", filepath.Base(prog), strings.Join(args, " "), err)
	}
	return out
}

// runErr is run that returns the failure (with its output) instead.
func runErr(stdin []byte, prog string, args ...string) ([]byte, error) {
	return runEnv(nil, stdin, prog, args...)
}

// runEnv is runErr with extra environment variables.
func runEnv(env []string, stdin []byte, prog string, args ...string) ([]byte, error) {
	cmd := exec.Command(prog, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, &peerError{err: err, output: string(out) + stderr.String()}
	}
	return out, nil
}

type peerError struct {
	err    error
	output string // standard output and error
}

func (e *peerError) Error() string { return e.err.Error() + ": " + e.output }

// nss is a fresh NSS database holding the CA (trusted for email, ",C,")
// and, imported with pk12util, the identity of files.
type nss struct {
	db                          string
	certutil, pk12util, cmsutil string
}

func newNSS(t testing.TB, f peerFiles) *nss {
	t.Helper()
	n := &nss{
		db:       "sql:" + t.TempDir(),
		certutil: interop.Need(t, "certutil", "libnss3-tools"),
		pk12util: interop.Need(t, "pk12util", "libnss3-tools"),
		cmsutil:  interop.Need(t, "cmsutil", "libnss3-tools"),
	}
	run(t, nil, n.certutil, "-N", "--empty-password", "-d", n.db)
	run(t, nil, n.certutil, "-A", "-n", "endymail CA", "-t", ",C,", "-i", f.ca, "-d", n.db)
	run(t, nil, n.pk12util, "-i", f.p12, "-d", n.db, "-W", p12Password)
	return n
}

// addCert adds a peer's certificate (no trust of its own) under nick.
func (n *nss) addCert(t testing.TB, nick, certPath string) {
	t.Helper()
	run(t, nil, n.certutil, "-A", "-n", nick, "-t", ",,", "-i", certPath, "-d", n.db)
}

// wrapSigned puts a detached signature made by a peer around entity as a
// multipart/signed message, the way mail clients send it.
func wrapSigned(header string, entity, sig []byte) []byte {
	var b bytes.Buffer
	b.WriteString(header)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"b1\"\r\n\r\n")
	b.WriteString("--b1\r\n")
	b.Write(entity)
	b.WriteString("\r\n--b1\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	writeWrapped(&b, sig)
	b.WriteString("--b1--\r\n")
	return b.Bytes()
}

// wrapOpaque puts a peer's CMS blob in an application/pkcs7-mime message.
func wrapOpaque(header, smimeType string, der []byte) []byte {
	var b bytes.Buffer
	b.WriteString(header)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=" + smimeType + "; name=smime.p7m\r\n")
	b.WriteString("Content-Transfer-Encoding: base64\r\n\r\n")
	writeWrapped(&b, der)
	return b.Bytes()
}

// detachedParts returns the signed entity and the DER signature of a
// multipart/signed message made by Sign, for feeding to cmsutil.
func detachedParts(t testing.TB, signed []byte) (entity, sig []byte) {
	t.Helper()
	h, body, err := readMessage(signed)
	if err != nil {
		t.Fatal(err)
	}
	der, content, err := signedParts(h, body)
	if err != nil {
		t.Fatal(err)
	}
	return content, der
}

// envelopedDER returns the CMS blob of a message made by Encrypt.
func envelopedDER(t testing.TB, enc []byte) []byte {
	t.Helper()
	h, body, err := readMessage(enc)
	if err != nil {
		t.Fatal(err)
	}
	_, _, der, err := decodeEntity(h, body)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
