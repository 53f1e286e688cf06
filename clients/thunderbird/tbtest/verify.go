package tbtest

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/endymail/endymail/internal/interop"
)

// Checking what Thunderbird sent with independent real peers: OpenSSL for
// S/MIME, GnuPG for OpenPGP. Each helper fails t on any error.

// SMIMEResult is what OpenSSL found in an S/MIME signed+encrypted message.
type SMIMEResult struct {
	// Inner is the decrypted MIME entity (for Thunderbird, a
	// multipart/signed with an application/pkcs7-signature part).
	Inner []byte
	// Content is the signed content after verification.
	Content []byte
	// Signer is the certificate that signed it.
	Signer *x509.Certificate
}

// DecryptVerifySMIME runs `openssl smime -decrypt` on the message raw with
// the recipient's PEM key and certificate, then `openssl smime -verify`
// on the result against the PEM CA certificate(s) in caPEM.
func DecryptVerifySMIME(t testing.TB, raw, recipKeyPEM, recipCertPEM, caPEM []byte) SMIMEResult {
	t.Helper()
	openssl := interop.Need(t, "openssl", "openssl")
	dir := t.TempDir()
	file := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	msg, key, cert, ca := file("msg.eml", raw), file("key.pem", recipKeyPEM), file("cert.pem", recipCertPEM), file("ca.pem", caPEM)
	signer := filepath.Join(dir, "signer.pem")
	var res SMIMEResult
	res.Inner = runPeer(t, openssl, nil, "smime", "-decrypt", "-in", msg, "-inkey", key, "-recip", cert)
	res.Content = runPeer(t, openssl, res.Inner, "smime", "-verify", "-CAfile", ca, "-signer", signer)
	b, err := os.ReadFile(signer)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("openssl smime -verify wrote no signer certificate")
	}
	if res.Signer, err = x509.ParseCertificate(blk.Bytes); err != nil {
		t.Fatal(err)
	}
	return res
}

// DecryptPGPMIME decrypts the PGP/MIME message raw with gpg, in a fresh
// GnuPG home holding the recipient's armored secret key (unlocked with
// passphrase) and the sender's armored public key. It returns the
// plaintext (the inner MIME entity) and gpg's status lines, in which
// "[GNUPG:] VALIDSIG <fingerprint>" names a good signature.
func DecryptPGPMIME(t testing.TB, raw []byte, recipientSecret, passphrase, senderPublic string) (plain []byte, status string) {
	t.Helper()
	gpg := interop.Need(t, "gpg", "gnupg")
	home := t.TempDir()
	run := func(stdin []byte, args ...string) []byte {
		return runPeer(t, gpg, stdin, append([]string{"--homedir", home, "--batch",
			"--pinentry-mode", "loopback", "--passphrase", passphrase}, args...)...)
	}
	run([]byte(recipientSecret), "--import")
	run([]byte(senderPublic), "--import")
	statusFile := filepath.Join(home, "status")
	plain = run(PGPMessageBlock(t, raw), "--status-file", statusFile, "--decrypt")
	b, err := os.ReadFile(statusFile)
	if err != nil {
		t.Fatal(err)
	}
	return plain, string(b)
}

// PGPMessageBlock returns the armored "PGP MESSAGE" block of a PGP/MIME
// message (the second part of RFC 3156 multipart/encrypted).
func PGPMessageBlock(t testing.TB, raw []byte) []byte {
	t.Helper()
	const begin, end = "-----BEGIN PGP MESSAGE-----", "-----END PGP MESSAGE-----"
	i := bytes.Index(raw, []byte(begin))
	j := bytes.Index(raw, []byte(end))
	if i < 0 || j < i {
		t.Fatalf("no armored PGP MESSAGE in:\n%.2000s", raw)
	}
	return raw[i : j+len(end)]
}

// runPeer runs a peer program with stdin and a one-minute limit and
// returns its standard output; it fails t when the program fails.
func runPeer(t testing.TB, bin string, stdin []byte, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}
