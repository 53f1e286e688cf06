package smime

import (
	"bytes"
	"crypto/x509"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/endymail/endymail/internal/interop"
)

// Thunderbird ships its own, newer NSS in /usr/lib/thunderbird. Running the
// system cmsutil on those libraries exercises the CMS code Thunderbird's
// S/MIME uses, without driving the whole application.
const thunderbirdNSS = "/usr/lib/thunderbird"

func TestInteropThunderbirdNSS(t *testing.T) {
	interop.NeedFile(t, filepath.Join(thunderbirdNSS, "libsmime3.so"), "thunderbird")
	env := []string{"LD_LIBRARY_PATH=" + thunderbirdNSS}
	alice := testIdentity(t, "alice@example.com", RSA3072)
	dir := t.TempDir()
	n := newNSS(t, writePeerFiles(t, dir, alice))
	cms := func(args ...string) []byte {
		t.Helper()
		out, err := runEnv(env, nil, n.cmsutil, append([]string{"-d", n.db}, args...)...)
		if err != nil {
			t.Fatalf("cmsutil (Thunderbird NSS) %v: %v", args, err)
		}
		return out
	}
	entity, sig := detachedParts(t, mustSign(t, alice))
	out := cms("-D", "-n", "-h", "2", "-i", writeFile(t, filepath.Join(dir, "sig"), sig),
		"-c", writeFile(t, filepath.Join(dir, "content"), entity))
	if !bytes.Contains(out, []byte("signer0.status=GoodSignature")) {
		t.Errorf("signature: got %q, want GoodSignature", out)
	}
	enc, err := Encrypt(sampleMessage("alice@example.com"), []*x509.Certificate{alice.Cert})
	if err != nil {
		t.Fatal(err)
	}
	if out := cms("-D", "-p", "", "-i", writeFile(t, filepath.Join(dir, "enc"), envelopedDER(t, enc))); !bytes.HasSuffix(out, []byte(peerBody)) {
		t.Errorf("decrypt: got %q", out)
	}
	in := writeFile(t, filepath.Join(dir, "entity"), []byte(peerEntity))
	if _, err := Decrypt(wrapOpaque(peerHeader, "enveloped-data", cms("-E", "-r", "Test alice@example.com", "-i", in)), alice); err != nil {
		t.Errorf("Thunderbird NSS -E to RSA: %v", err)
	}
	// Thunderbird's NSS encrypts to a P-256 certificate with ECDH even
	// though its key usage is digitalSignature only; this package cannot
	// read that and must say so.
	p256 := testIdentity(t, "carol@example.com", P256)
	n.addCert(t, "carol", writeFile(t, filepath.Join(dir, "carol.pem"), p256.CertPEM()))
	ecdh := cms("-E", "-r", "carol", "-i", in)
	if _, err := Decrypt(wrapOpaque(peerHeader, "enveloped-data", ecdh), p256); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "key agreement") {
		t.Errorf("ECDH from Thunderbird NSS: got %v, want ErrUnsupported", err)
	}
}
