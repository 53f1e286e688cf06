package openpgp

import (
	"fmt"
	"testing"
)

// Benchmarks run each operation in process and, side by side, the same
// work done by exec'ing gpg 2.2 once per iteration (the baseline), so the
// ratio can be reported: go test ./openpgp -run '^$' -bench . -benchtime 20x

// gpgKeyParams is a gpg --gen-key parameter file for the same key shape
// Generate makes.
var gpgKeyParams = map[KeyType]string{
	Ed25519: "Key-Type: EDDSA\nKey-Curve: ed25519\nKey-Usage: sign,cert\nSubkey-Type: ECDH\nSubkey-Curve: cv25519\nSubkey-Usage: encrypt\n",
	RSA3072: "Key-Type: RSA\nKey-Length: 3072\nKey-Usage: sign,cert\nSubkey-Type: RSA\nSubkey-Length: 3072\nSubkey-Usage: encrypt\n",
}

// gpgUnprotected is a gpg holding public and the unprotected secret key, so
// that the baseline pays no passphrase S2K per operation (neither do we).
func gpgUnprotected(b *testing.B, public, secret *Key) *peer {
	g := newGPG(b)
	pub, _ := public.ArmoredPublic()
	raw, _ := secret.Marshal()
	sec, _ := armored("PGP PRIVATE KEY BLOCK", raw)
	g.must(pub, "--import")
	g.must(sec, "--import")
	return g
}

func BenchmarkGenerate(b *testing.B) {
	for _, kt := range keyTypes {
		b.Run(kt.String()+"/endymail", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := Generate(KeyRequest{Name: "Bench", Address: "bench@example.org", Type: kt}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(kt.String()+"/gpg", func(b *testing.B) {
			g := newGPG(b)
			for i := 0; i < b.N; i++ {
				params := fmt.Sprintf("%sName-Real: Bench\nName-Email: bench%d@example.org\nExpire-Date: 3y\n%%no-protection\n%%commit\n", gpgKeyParams[kt], i)
				g.must([]byte(params), "--gen-key")
			}
		})
	}
}

// benchSize is the size of the benchmark message.
const benchSize = 100 << 10

func BenchmarkSignEncrypt(b *testing.B) {
	msg := bigMessage(benchSize)
	for _, kt := range keyTypes {
		alice, bob, _ := testKeys(b, kt)
		b.Run(kt.String()+"/endymail", func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			for i := 0; i < b.N; i++ {
				if _, err := Encrypt(msg, []*Key{bob}, alice); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(kt.String()+"/gpg", func(b *testing.B) {
			g := gpgUnprotected(b, bob, alice)
			b.SetBytes(int64(len(msg)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				g.must(msg, "--armor", "--sign", "--encrypt", "-u", alice.Fingerprint(), "-r", bob.Fingerprint())
			}
		})
	}
}

func BenchmarkDecryptVerify(b *testing.B) {
	msg := bigMessage(benchSize)
	for _, kt := range keyTypes {
		alice, bob, _ := testKeys(b, kt)
		b.Run(kt.String()+"/endymail", func(b *testing.B) {
			enc, err := Encrypt(msg, []*Key{bob}, alice)
			if err != nil {
				b.Fatal(err)
			}
			keys := []*Key{bob, alice.Public()}
			b.SetBytes(int64(len(msg)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d, err := Decrypt(enc, keys)
				if err != nil || d.Signer == nil {
					b.Fatalf("Decrypt: %v, signature %v", err, d.SignatureErr)
				}
			}
		})
		b.Run(kt.String()+"/gpg", func(b *testing.B) {
			g := gpgUnprotected(b, alice, bob)
			sender := gpgUnprotected(b, bob, alice)
			enc := sender.must(msg, "--armor", "--sign", "--encrypt", "-u", alice.Fingerprint(), "-r", bob.Fingerprint())
			b.SetBytes(int64(len(msg)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				g.must(enc, "--decrypt")
			}
		})
	}
}
