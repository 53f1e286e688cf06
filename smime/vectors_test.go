package smime

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/endymail/endymail/internal/interop"
)

// The vectors under testdata/ are whole messages made by this package,
// OpenSSL and NSS's cmsutil, for a test CA and test identities whose keys
// are stored beside them (test-only keys, password p12Password). Each .eml
// starts with an X-Endymail-Testdata field naming its origin. They seed the
// fuzz targets and pin today's behaviour without the peers installed.
// Regenerate with: ENDYMAIL_REGEN_TESTDATA=1 go test -run TestGenerateVectors ./smime/

type vectors struct {
	roots      *x509.CertPool
	alice, bob *Identity
	now        time.Time
}

var (
	vecOnce sync.Once
	vec     vectors
	vecErr  error
)

func loadVectors(t testing.TB) vectors {
	t.Helper()
	vecOnce.Do(func() {
		var ca []byte
		if ca, vecErr = os.ReadFile("testdata/ca.pem"); vecErr != nil {
			return
		}
		b, _ := pem.Decode(ca)
		c, err := x509.ParseCertificate(b.Bytes)
		if vecErr = err; err != nil {
			return
		}
		vec.roots = x509.NewCertPool()
		vec.roots.AddCert(c)
		if vec.alice, vecErr = loadP12("testdata/alice-rsa2048.p12"); vecErr != nil {
			return
		}
		vec.bob, vecErr = loadP12("testdata/bob-rsa2048.p12")
		vec.now = vec.alice.Cert.NotBefore.Add(2 * time.Hour)
	})
	if vecErr != nil {
		t.Fatal(vecErr)
	}
	return vec
}

func loadP12(path string) (*Identity, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParsePKCS12(b, p12Password)
}

// vectorCases says what each vector must give: the operation and the error
// it must wrap (nil for success).
var vectorCases = map[string]struct {
	decrypt bool
	want    error
}{
	"ours-signed-rsa2048.eml":     {false, nil},
	"ours-signed-p256.eml":        {false, nil},
	"ours-encrypted.eml":          {true, ErrNotSigned}, // encrypted only
	"ours-signed-encrypted.eml":   {true, nil},
	"openssl-signed.eml":          {false, nil},
	"openssl-opaque.eml":          {false, nil},
	"openssl-signed-keyid.eml":    {false, ErrUnsupported},
	"openssl-encrypted.eml":       {true, ErrNotSigned},
	"openssl-authenveloped.eml":   {true, ErrUnsupported},
	"openssl-keyid-recipient.eml": {true, ErrUnsupported},
	"nss-signed.eml":              {false, nil},
	"nss-opaque.eml":              {false, nil},
	"nss-encrypted.eml":           {true, ErrNotSigned},
}

func TestVectors(t *testing.T) {
	v := loadVectors(t)
	for name, tc := range vectorCases {
		msg, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if tc.decrypt {
			if msg, err = Decrypt(msg, v.bob); err != nil {
				if !errors.Is(err, tc.want) {
					t.Errorf("%s: decrypt: got %v, want %v", name, err, tc.want)
				}
				continue
			}
		}
		_, err = Verify(msg, v.roots, v.now)
		if (tc.want == nil && err != nil) || !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", name, err, tc.want)
		}
	}
}

func TestGenerateVectors(t *testing.T) {
	if os.Getenv("ENDYMAIL_REGEN_TESTDATA") != "1" {
		t.Skip("set ENDYMAIL_REGEN_TESTDATA=1 to regenerate testdata/")
	}
	openssl := interop.Need(t, "openssl", "openssl")
	now := time.Now().UTC().Truncate(time.Hour)
	ca, err := NewCA("endymail test vectors CA", now, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]*Identity{}
	for name, kt := range map[string]KeyType{"alice-rsa2048": RSA2048, "alice-p256": P256, "bob-rsa2048": RSA2048} {
		addr := strings.Split(name, "-")[0] + "@example.com"
		if ids[name], err = ca.Issue(LeafRequest{Address: addr, Name: name, KeyType: kt, Now: now}); err != nil {
			t.Fatal(err)
		}
		p12, err := ids[name].PKCS12(p12Password)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, "testdata/"+name+".p12", p12)
	}
	writeFile(t, "testdata/ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw}))
	out := map[string][]byte{}
	genOurs(t, out, ids)
	genOpenSSL(t, out, openssl, ids)
	genNSS(t, out, ids)
	for name, msg := range out {
		origin := "X-Endymail-Testdata: " + name + " made by TestGenerateVectors on " + now.Format(time.DateOnly) + "\r\n"
		writeFile(t, "testdata/"+name, append([]byte(origin), canonicalize(msg)...))
	}
}

func genOurs(t *testing.T, out map[string][]byte, ids map[string]*Identity) {
	msg := sampleMessage("alice@example.com")
	bob := []*x509.Certificate{ids["bob-rsa2048"].Cert}
	var err error
	for name, f := range map[string]func() ([]byte, error){
		"ours-signed-rsa2048.eml":   func() ([]byte, error) { return Sign(msg, ids["alice-rsa2048"]) },
		"ours-signed-p256.eml":      func() ([]byte, error) { return Sign(msg, ids["alice-p256"]) },
		"ours-encrypted.eml":        func() ([]byte, error) { return Encrypt(msg, bob) },
		"ours-signed-encrypted.eml": func() ([]byte, error) { return SignAndEncrypt(msg, ids["alice-rsa2048"], bob) },
	} {
		if out[name], err = f(); err != nil {
			t.Fatal(err)
		}
	}
}

func genOpenSSL(t *testing.T, out map[string][]byte, openssl string, ids map[string]*Identity) {
	dir := t.TempDir()
	alice := writePeerFiles(t, filepath.Join(mkdir(t, dir, "a")), ids["alice-rsa2048"])
	bob := writePeerFiles(t, filepath.Join(mkdir(t, dir, "b")), ids["bob-rsa2048"])
	in := writeFile(t, filepath.Join(dir, "entity"), []byte(peerEntity))
	sign := []string{"cms", "-sign", "-binary", "-md", "sha256", "-signer", alice.cert, "-inkey", alice.key,
		"-from", "alice@example.com", "-to", "bob@example.com", "-subject", "openssl vector", "-in", in}
	enc := []string{"cms", "-encrypt", "-binary", "-from", "alice@example.com", "-to", "bob@example.com",
		"-subject", "openssl vector", "-in", in}
	out["openssl-signed.eml"] = run(t, nil, openssl, sign...)
	out["openssl-opaque.eml"] = run(t, nil, openssl, append(sign, "-nodetach")...)
	out["openssl-signed-keyid.eml"] = run(t, nil, openssl, append(sign, "-keyid")...)
	out["openssl-encrypted.eml"] = run(t, nil, openssl, append(enc, "-aes256", bob.cert)...)
	out["openssl-authenveloped.eml"] = run(t, nil, openssl, append(enc, "-aes-256-gcm", bob.cert)...)
	out["openssl-keyid-recipient.eml"] = run(t, nil, openssl, append(enc, "-aes256", "-keyid", bob.cert)...)
}

func genNSS(t *testing.T, out map[string][]byte, ids map[string]*Identity) {
	dir := t.TempDir()
	f := writePeerFiles(t, dir, ids["alice-rsa2048"])
	n := newNSS(t, f)
	n.addCert(t, "bob", writeFile(t, filepath.Join(dir, "bob.pem"), ids["bob-rsa2048"].CertPEM()))
	in := writeFile(t, filepath.Join(dir, "entity"), []byte(peerEntity))
	sign := []string{"-S", "-d", n.db, "-p", "", "-N", f.nick, "-G", "-P", "-H", "SHA256", "-i", in}
	out["nss-signed.eml"] = wrapSigned(peerHeader, []byte(peerEntity), run(t, nil, n.cmsutil, append(sign, "-T")...))
	out["nss-opaque.eml"] = wrapOpaque(peerHeader, "signed-data", run(t, nil, n.cmsutil, sign...))
	out["nss-encrypted.eml"] = wrapOpaque(peerHeader, "enveloped-data", run(t, nil, n.cmsutil, "-E", "-d", n.db, "-r", "bob", "-i", in))
}

func mkdir(t *testing.T, dir, name string) string {
	p := filepath.Join(dir, name)
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

// vectorFiles returns the .eml vectors, for fuzz seeds.
func vectorFiles(f *testing.F) [][]byte {
	names, err := filepath.Glob("testdata/*.eml")
	if err != nil || len(names) == 0 {
		f.Fatalf("no vectors: %v", err)
	}
	var out [][]byte
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}
