package smime

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"testing"

	"github.com/endymail/endymail/internal/interop"
)

// Benchmarks: ours in process, and side by side the same work done by
// openssl cms as whole processes (one exec per step, as a mail tool that
// shells out would), so a ratio can be read off one run. For P-256 the
// sender signs with P-256 and encrypts to an RSA-3072 recipient, since
// nothing here encrypts to P-256.

func BenchmarkKeyGenAndIssue(b *testing.B) {
	ca := testCA(b)
	for _, kt := range allKeyTypes {
		b.Run(kt.String(), func(b *testing.B) {
			for b.Loop() {
				if _, err := ca.Issue(LeafRequest{Address: "alice@example.com", KeyType: kt, Now: testNow}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchMessage is a 100 KB plain-text message.
func benchMessage() []byte {
	msg := bytes.TrimSuffix(sampleMessage("alice@example.com"), []byte("Hello Bob,\r\nthe figures are in.\r\n"))
	for n := 0; len(msg) < 100*1024; n++ {
		msg = fmt.Appendf(msg, "%06d the quick brown fox jumps over the lazy dog, again and again and again\r\n", n)
	}
	return msg
}

// benchParties returns the signer of type kt and the recipient.
func benchParties(b *testing.B, kt KeyType) (sender, recipient *Identity) {
	recipientType := kt
	if kt == P256 {
		recipientType = RSA3072
	}
	return testIdentity(b, "alice@example.com", kt), testIdentity(b, "bob@example.com", recipientType)
}

func BenchmarkSignAndEncrypt(b *testing.B) {
	msg := benchMessage()
	for _, kt := range allKeyTypes {
		b.Run(kt.String(), func(b *testing.B) {
			alice, bob := benchParties(b, kt)
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if _, err := SignAndEncrypt(msg, alice, []*x509.Certificate{bob.Cert}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecryptVerify(b *testing.B) {
	msg := benchMessage()
	roots := testRoots(b)
	for _, kt := range allKeyTypes {
		b.Run(kt.String(), func(b *testing.B) {
			alice, bob := benchParties(b, kt)
			enc, err := SignAndEncrypt(msg, alice, []*x509.Certificate{bob.Cert})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				dec, err := Decrypt(enc, bob)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Verify(dec, roots, testNow); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// opensslBench holds the files the openssl baseline works on.
type opensslBench struct {
	openssl      string
	alice, bob   peerFiles
	entity, sent []byte
}

func newOpenSSLBench(b *testing.B, kt KeyType) *opensslBench {
	alice, bob := benchParties(b, kt)
	o := &opensslBench{
		openssl: interop.Need(b, "openssl", "openssl"),
		alice:   writePeerFiles(b, b.TempDir(), alice),
		bob:     writePeerFiles(b, b.TempDir(), bob),
	}
	_, o.entity, _ = innerEntity(benchMessage())
	o.sent = o.signAndEncrypt(b)
	return o
}

func (o *opensslBench) signAndEncrypt(b *testing.B) []byte {
	signed := run(b, o.entity, o.openssl, "cms", "-sign", "-binary", "-md", "sha256", "-signer", o.alice.cert,
		"-inkey", o.alice.key, "-certfile", o.alice.ca, "-from", "alice@example.com", "-to", "bob@example.com")
	return run(b, signed, o.openssl, "cms", "-encrypt", "-aes256", "-binary", o.bob.cert)
}

func (o *opensslBench) decryptVerify(b *testing.B) {
	signed := run(b, o.sent, o.openssl, "cms", "-decrypt", "-recip", o.bob.cert, "-inkey", o.bob.key)
	run(b, signed, o.openssl, "cms", "-verify", "-CAfile", o.alice.ca, "-purpose", "smimesign")
}

func BenchmarkOpenSSLSignAndEncrypt(b *testing.B) {
	for _, kt := range allKeyTypes {
		b.Run(kt.String(), func(b *testing.B) {
			o := newOpenSSLBench(b, kt)
			b.SetBytes(int64(len(o.entity)))
			for b.Loop() {
				o.signAndEncrypt(b)
			}
		})
	}
}

func BenchmarkOpenSSLDecryptVerify(b *testing.B) {
	for _, kt := range allKeyTypes {
		b.Run(kt.String(), func(b *testing.B) {
			o := newOpenSSLBench(b, kt)
			b.SetBytes(int64(len(o.entity)))
			for b.Loop() {
				o.decryptVerify(b)
			}
		})
	}
}
