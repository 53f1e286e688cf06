package openpgp

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "regenerate the testdata vectors (needs gpg)")

// vectorKeyLifetime keeps the stored test keys valid for the vector tests.
const vectorKeyLifetime = 30 * 365 * 24 * time.Hour

// readVector returns a testdata file without its "#" header and the blank
// line after it.
func readVector(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("%v (regenerate with go test ./openpgp -run TestVectors -update)", err)
	}
	for bytes.HasPrefix(data, []byte("#")) {
		_, data, _ = bytes.Cut(data, []byte("\n"))
	}
	return bytes.TrimPrefix(data, []byte("\n"))
}

// writeVector writes data under a header saying what it is and how it was made.
func writeVector(t *testing.T, name, what string, data []byte) {
	t.Helper()
	head := fmt.Sprintf("# %s: %s\n# Made by `go test ./openpgp -run TestVectors -update` on %s\n"+
		"# (github.com/ProtonMail/go-crypto as pinned in go.mod; %s for the gpg-* files).\n"+
		"# Test-only keys: alice@example.org and bob@example.org, never used for mail.\n\n",
		name, what, time.Now().UTC().Format(time.DateOnly), vectorGPG)
	if err := os.WriteFile(filepath.Join("testdata", name), append([]byte(head), data...), 0o644); err != nil {
		t.Fatal(err)
	}
}

func vectorKeys(t testing.TB) (alice, bob *Key) {
	t.Helper()
	a, err := ParseKey(readVector(t, "alice.key"))
	if err != nil {
		t.Fatalf("alice.key: %v", err)
	}
	b, err := ParseKey(readVector(t, "bob.key"))
	if err != nil {
		t.Fatalf("bob.key: %v", err)
	}
	return a, b
}

// vectorGPG names the gpg that made the gpg-* vectors.
var vectorGPG = "gpg"

func generateVectors(t *testing.T) {
	version := newGPG(t).must(nil, "--version")
	vectorGPG = string(bytes.SplitN(version, []byte("\n"), 2)[0])
	var keys [2]*Key
	for i, name := range []string{"Alice", "Bob"} {
		k, err := Generate(KeyRequest{Name: name, Address: map[int]string{0: "alice", 1: "bob"}[i] + "@example.org", Lifetime: vectorKeyLifetime})
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
		raw, _ := k.Marshal()
		arm, _ := armored("PGP PRIVATE KEY BLOCK", raw)
		writeVector(t, map[int]string{0: "alice.key", 1: "bob.key"}[i], "Ed25519 test key, secret part unprotected (Key.Marshal, armored).", arm)
	}
	alice, bob := keys[0], keys[1]
	pub, _ := alice.ArmoredPublic()
	writeVector(t, "alice.pub.asc", "alice's public key (Key.ArmoredPublic).", pub)
	signed, err := Sign(testMessage("alice@example.org"), alice)
	if err != nil {
		t.Fatal(err)
	}
	writeVector(t, "signed.eml", "Sign(testMessage, alice): multipart/signed.", signed)
	enc, err := Encrypt(testMessage("alice@example.org"), []*Key{bob}, alice)
	if err != nil {
		t.Fatal(err)
	}
	writeVector(t, "encrypted.eml", "Encrypt(testMessage, bob, signer alice): multipart/encrypted.", enc)

	g := gpgWith(t, bob, alice)
	genc := g.must([]byte(innerEntity), "--armor", "--sign", "--encrypt", "-u", alice.Fingerprint(), "-r", bob.Fingerprint())
	writeVector(t, "gpg-encrypted.eml", "gpg --sign --encrypt (alice to bob) of innerEntity, wrapped by wrapEncrypted.", wrapEncrypted("alice@example.org", genc))
	gsig := g.must([]byte(innerEntity), "--armor", "--detach-sign", "--digest-algo", "SHA256", "-u", alice.Fingerprint())
	writeVector(t, "gpg-signed.eml", "gpg --detach-sign (alice) of innerEntity, wrapped by wrapSigned.", wrapSigned("alice@example.org", innerEntity, gsig))
	nomdc := g.must([]byte(innerEntity), "--armor", "--rfc2440", "--encrypt", "-r", bob.Fingerprint())
	writeVector(t, "gpg-nomdc.eml", "gpg --rfc2440 --encrypt to bob (SED packet without MDC), wrapped by wrapEncrypted.", wrapEncrypted("alice@example.org", nomdc))
}

// TestVectors checks the stored messages: ours and gpg's verify and
// decrypt, the one without MDC is refused.
func TestVectors(t *testing.T) {
	if *update {
		generateVectors(t)
	}
	alice, bob := vectorKeys(t)
	keys := []*Key{bob, alice.Public()}
	for _, name := range []string{"signed.eml", "gpg-signed.eml"} {
		v, err := Verify(readVector(t, name), keys, time.Now())
		if err != nil || v.Signer.Fingerprint() != alice.Fingerprint() {
			t.Errorf("Verify(%s): got %v, %v; want signer %s", name, v, err, alice)
		}
	}
	for _, name := range []string{"encrypted.eml", "gpg-encrypted.eml"} {
		d, err := Decrypt(readVector(t, name), keys)
		if err != nil {
			t.Errorf("Decrypt(%s): %v", name, err)
			continue
		}
		if d.Signer == nil || d.Signer.Fingerprint() != alice.Fingerprint() || d.SignatureErr != nil {
			t.Errorf("Decrypt(%s): got signer %v, %v; want %s", name, d.Signer, d.SignatureErr, alice)
		}
	}
	_, err := Decrypt(readVector(t, "gpg-nomdc.eml"), keys)
	wantErr(t, "Decrypt(gpg-nomdc.eml)", err, ErrNoMDC)
	pub, err := ParsePublic(readVector(t, "alice.pub.asc"))
	if err != nil || pub.Fingerprint() != alice.Fingerprint() {
		t.Errorf("ParsePublic(alice.pub.asc): got %v, %v; want %s", pub, err, alice)
	}
}
