package smime

import (
	"bytes"
	"crypto/x509"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/endymail/endymail/internal/interop"
)

var allKeyTypes = []KeyType{RSA2048, RSA3072, P256}

const peerBody = "Hello Bob,\r\nthe figures are in.\r\n"

// peerNow is real time: the peers check validity against their own clock.
func peerNow() time.Time { return time.Now() }

func TestInteropPKCS12AndCertificate(t *testing.T) {
	openssl := interop.Need(t, "openssl", "openssl")
	for _, kt := range allKeyTypes {
		t.Run(kt.String(), func(t *testing.T) {
			id := testIdentity(t, "alice@example.com", kt)
			f := writePeerFiles(t, t.TempDir(), id)

			info := run(t, nil, openssl, "pkcs12", "-info", "-in", f.p12, "-passin", "pass:"+p12Password, "-noenc")
			if n := bytes.Count(info, []byte("BEGIN CERTIFICATE")); n != 2 || !bytes.Contains(info, []byte("BEGIN PRIVATE KEY")) {
				t.Errorf("openssl pkcs12 -info: got %d certificates and key=%v, want leaf + CA and the key",
					n, bytes.Contains(info, []byte("BEGIN PRIVATE KEY")))
			}
			run(t, nil, openssl, "verify", "-purpose", "smimesign", "-CAfile", f.ca, f.cert)
			_, encErr := runErr(nil, openssl, "verify", "-purpose", "smimeencrypt", "-CAfile", f.ca, f.cert)
			if wantOK := kt != P256; (encErr == nil) != wantOK {
				t.Errorf("openssl verify -purpose smimeencrypt: got err %v, want success=%v", encErr, wantOK)
			}

			n := newNSS(t, f)
			run(t, nil, n.certutil, "-V", "-n", f.nick, "-u", "S", "-d", n.db)
			// NSS also accepts the P-256 (digitalSignature only) certificate
			// for email recipient use; see the report on P-256.
			run(t, nil, n.certutil, "-V", "-n", f.nick, "-u", "R", "-d", n.db)
		})
	}
}

func TestInteropUntrustedCAFailsInNSS(t *testing.T) {
	id := testIdentity(t, "alice@example.com", RSA2048)
	f := writePeerFiles(t, t.TempDir(), id)
	n := newNSS(t, f)
	run(t, nil, n.certutil, "-M", "-n", "endymail CA", "-t", ",,", "-d", n.db)
	if _, err := runErr(nil, n.certutil, "-V", "-n", f.nick, "-u", "S", "-d", n.db); err == nil {
		t.Error("certutil -V accepted a chain to an untrusted CA; the trusted cases prove nothing")
	}
}

func TestInteropOursToOpenSSL(t *testing.T) {
	openssl := interop.Need(t, "openssl", "openssl")
	bob := testIdentity(t, "bob@example.com", RSA2048)
	for _, kt := range allKeyTypes {
		t.Run(kt.String(), func(t *testing.T) {
			id := testIdentity(t, "alice@example.com", kt)
			dir := t.TempDir()
			f := writePeerFiles(t, dir, id)
			signed := writeFile(t, filepath.Join(dir, "signed.eml"), mustSign(t, id))
			for _, cmd := range []string{"smime", "cms"} {
				out := run(t, nil, openssl, cmd, "-verify", "-CAfile", f.ca, "-purpose", "smimesign", "-in", signed)
				if !bytes.Contains(out, []byte(peerBody)) {
					t.Errorf("openssl %s -verify: got %q, want the body", cmd, out)
				}
			}
			if kt == P256 {
				return
			}
			enc, err := SignAndEncrypt(sampleMessage("alice@example.com"), id, []*x509.Certificate{id.Cert, bob.Cert})
			if err != nil {
				t.Fatal(err)
			}
			inner := run(t, nil, openssl, "cms", "-decrypt", "-recip", f.cert, "-inkey", f.key,
				"-in", writeFile(t, filepath.Join(dir, "enc.eml"), enc))
			out := run(t, inner, openssl, "cms", "-verify", "-CAfile", f.ca, "-purpose", "smimesign")
			if !bytes.Contains(out, []byte(peerBody)) {
				t.Errorf("openssl cms -decrypt | -verify: got %q, want the body", out)
			}
		})
	}
}

func TestInteropOursToNSS(t *testing.T) {
	for _, kt := range allKeyTypes {
		t.Run(kt.String(), func(t *testing.T) {
			id := testIdentity(t, "alice@example.com", kt)
			dir := t.TempDir()
			n := newNSS(t, writePeerFiles(t, dir, id))
			entity, sig := detachedParts(t, mustSign(t, id))
			out := run(t, nil, n.cmsutil, "-D", "-d", n.db, "-n", "-h", "2",
				"-i", writeFile(t, filepath.Join(dir, "sig.der"), sig),
				"-c", writeFile(t, filepath.Join(dir, "content"), entity))
			if !bytes.Contains(out, []byte("signer0.status=GoodSignature")) {
				t.Errorf("cmsutil -D: got %q, want GoodSignature", out)
			}
			if kt == P256 {
				return
			}
			enc, err := Encrypt(sampleMessage("alice@example.com"), []*x509.Certificate{id.Cert})
			if err != nil {
				t.Fatal(err)
			}
			out = run(t, nil, n.cmsutil, "-D", "-d", n.db, "-p", "",
				"-i", writeFile(t, filepath.Join(dir, "enc.der"), envelopedDER(t, enc)))
			if !bytes.HasSuffix(out, []byte("\r\n\r\n"+peerBody)) {
				t.Errorf("cmsutil -D (decrypt): got %q, want the entity", out)
			}
		})
	}
}

const peerHeader = "From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: from a peer\r\n"

const peerEntity = "Content-Type: text/plain; charset=us-ascii\r\n\r\n" + peerBody

func TestInteropOpenSSLToOurs(t *testing.T) {
	openssl := interop.Need(t, "openssl", "openssl")
	for _, kt := range allKeyTypes {
		t.Run(kt.String(), func(t *testing.T) {
			id := testIdentity(t, "alice@example.com", kt)
			dir := t.TempDir()
			f := writePeerFiles(t, dir, id)
			in := writeFile(t, filepath.Join(dir, "entity"), []byte(peerEntity))
			sign := []string{"cms", "-sign", "-binary", "-md", "sha256", "-signer", f.cert, "-inkey", f.key,
				"-certfile", f.ca, "-from", "alice@example.com", "-to", "bob@example.com", "-subject", "peer", "-in", in}
			for name, extra := range map[string][]string{"detached": nil, "opaque": {"-nodetach"}} {
				msg := run(t, nil, openssl, append(sign, extra...)...)
				v, err := Verify(msg, testRoots(t), peerNow())
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !bytes.HasSuffix(v.Message, []byte(peerBody)) || v.From != "alice@example.com" {
					t.Errorf("%s: got From %q content %q", name, v.From, v.Message)
				}
			}
			msg := run(t, nil, openssl, append(sign, "-keyid")...)
			if _, err := Verify(msg, testRoots(t), peerNow()); !errors.Is(err, ErrUnsupported) {
				t.Errorf("-keyid signer: got %v, want ErrUnsupported", err)
			}
			if kt != P256 {
				opensslEncryptToOurs(t, openssl, id, f, in)
			}
		})
	}
}

// opensslEncryptToOurs checks what openssl cms -encrypt produces for id.
func opensslEncryptToOurs(t *testing.T, openssl string, id *Identity, f peerFiles, in string) {
	t.Helper()
	enc := []string{"cms", "-encrypt", "-binary", "-from", "alice@example.com", "-subject", "peer", "-in", in}
	for _, cipher := range []string{"-aes256", "-aes128", "-des3"} {
		dec, err := Decrypt(run(t, nil, openssl, append(slices.Clone(enc), cipher, f.cert)...), id)
		if err != nil {
			t.Fatalf("%s: %v", cipher, err)
		}
		if !bytes.HasSuffix(dec, []byte("\r\n\r\n"+peerBody)) || !bytes.HasPrefix(dec, []byte("From: alice@example.com")) {
			t.Errorf("%s: got %q", cipher, dec)
		}
	}
	signed := run(t, nil, openssl, "cms", "-sign", "-binary", "-md", "sha256", "-signer", f.cert, "-inkey", f.key, "-in", in)
	encStdin := []string{"cms", "-encrypt", "-binary", "-from", "alice@example.com", "-aes256", f.cert}
	both := run(t, signed, openssl, encStdin...)
	dec, err := Decrypt(both, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(dec, testRoots(t), peerNow()); err != nil {
		t.Errorf("openssl sign | encrypt: %v", err)
	}
	p256 := writePeerFiles(t, t.TempDir(), testIdentity(t, "alice@example.com", P256))
	for name, args := range map[string][]string{
		"aes-256-gcm (AuthEnvelopedData)": {"-aes-256-gcm", f.cert},
		"keyid recipient":                 {"-aes256", "-keyid", f.cert},
		"ECDH recipient":                  {"-aes256", p256.cert},
	} {
		msg := run(t, nil, openssl, append(slices.Clone(enc), args...)...)
		target := id
		if strings.HasPrefix(name, "ECDH") {
			target = testIdentity(t, "alice@example.com", P256)
		}
		if _, err := Decrypt(msg, target); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: got %v, want ErrUnsupported", name, err)
		}
	}
}

func TestInteropNSSToOurs(t *testing.T) {
	for _, kt := range allKeyTypes {
		t.Run(kt.String(), func(t *testing.T) {
			id := testIdentity(t, "alice@example.com", kt)
			dir := t.TempDir()
			f := writePeerFiles(t, dir, id)
			n := newNSS(t, f)
			in := writeFile(t, filepath.Join(dir, "entity"), []byte(peerEntity))
			sign := []string{"-S", "-d", n.db, "-p", "", "-N", f.nick, "-G", "-P", "-H", "SHA256", "-i", in}
			sig := run(t, nil, n.cmsutil, append(sign, "-T")...)
			if _, err := Verify(wrapSigned(peerHeader, []byte(peerEntity), sig), testRoots(t), peerNow()); err != nil {
				t.Errorf("cmsutil -S -T (detached): %v", err)
			}
			opaque := run(t, nil, n.cmsutil, sign...)
			v, err := Verify(wrapOpaque(peerHeader, "signed-data", opaque), testRoots(t), peerNow())
			if err != nil {
				t.Fatalf("cmsutil -S (opaque): %v", err)
			}
			if !bytes.HasSuffix(v.Message, []byte(peerBody)) {
				t.Errorf("cmsutil -S (opaque): got %q", v.Message)
			}
			if kt == P256 {
				return
			}
			bob := testIdentity(t, "bob@example.com", kt)
			n.addCert(t, "bob", writeFile(t, filepath.Join(dir, "bob.pem"), bob.CertPEM()))
			env := run(t, nil, n.cmsutil, "-E", "-d", n.db, "-r", "bob", "-i", in)
			dec, err := Decrypt(wrapOpaque(peerHeader, "enveloped-data", env), bob)
			if err != nil {
				t.Fatalf("cmsutil -E: %v", err)
			}
			if want := peerHeader + "MIME-Version: 1.0\r\n" + peerEntity; string(dec) != want {
				t.Errorf("cmsutil -E: got %q, want %q", dec, want)
			}
		})
	}
}

// TestInteropNameConstraints shows the CA's name constraints are enforced
// by the peers, not merely tolerated: a leaf for an address outside the
// permitted domain fails in OpenSSL and NSS.
func TestInteropNameConstraints(t *testing.T) {
	openssl := interop.Need(t, "openssl", "openssl")
	outside, err := testCA(t).Issue(LeafRequest{Address: "alice@example.org", KeyType: P256, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	f := writePeerFiles(t, t.TempDir(), outside)
	_, err = runErr(nil, openssl, "verify", "-purpose", "smimesign", "-CAfile", f.ca, f.cert)
	if err == nil || !strings.Contains(err.Error(), "permitted subtree violation") {
		t.Errorf("openssl verify: got %v, want a permitted subtree violation", err)
	}
	n := newNSS(t, f)
	_, err = runErr(nil, n.certutil, "-V", "-n", f.nick, "-u", "S", "-d", n.db)
	if err == nil || !strings.Contains(err.Error(), "not permitted to issue a certificate with this name") {
		t.Errorf("certutil -V: got %v, want a name constraint refusal", err)
	}
}

// TestInteropMultipartToOpenSSL signs a multipart/mixed message with LF line
// ends and a folded Content-Type; OpenSSL must verify the canonical form.
func TestInteropMultipartToOpenSSL(t *testing.T) {
	openssl := interop.Need(t, "openssl", "openssl")
	id := testIdentity(t, "alice@example.com", RSA2048)
	f := writePeerFiles(t, t.TempDir(), id)
	mixed, err := Sign(multipartMessage(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, mixed, openssl, "cms", "-verify", "-CAfile", f.ca, "-purpose", "smimesign")
	if want := "AAECAwQFBgcICQ==\r\n--outer-b--"; !bytes.Contains(out, []byte(want)) {
		t.Errorf("openssl cms -verify: got %q, want it to contain %q", out, want)
	}
	if _, err := Verify(mixed, testRoots(t), testNow); err != nil {
		t.Errorf("Verify: %v", err)
	}
}
