package agent

import (
	"fmt"
	"testing"
	"time"

	"github.com/endymail/endymail/openpgp"
	"github.com/endymail/endymail/smime"
)

// BenchmarkEnable measures `enable` end to end on loopback (keys, sealing,
// upload, log append), rotating each time so every iteration makes new keys.
// BenchmarkKeygen does only the key generation of the same types: the ratio
// of the two is what enable adds to key generation.
func BenchmarkEnable(b *testing.B) {
	for _, kt := range []smime.KeyType{smime.P256, smime.RSA2048} {
		b.Run(fmt.Sprint(kt), func(b *testing.B) {
			url, _ := startMesh(b)
			a, err := Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			a.Clients = nil
			if _, err := a.Init(b.Context(), alice, url, "bench"); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := a.Enable(b.Context(), EnableOptions{Address: alice, SMIMEKey: kt, Rotate: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkKeygen(b *testing.B) {
	for _, kt := range []smime.KeyType{smime.P256, smime.RSA2048} {
		b.Run(fmt.Sprint(kt), func(b *testing.B) {
			ca, err := smime.NewCA("bench", time.Now())
			if err != nil {
				b.Fatal(err)
			}
			for range b.N {
				if _, _, _, err := newKeySet(ca, alice, "", EnableOptions{SMIMEKey: kt, OpenPGPKey: openpgp.Ed25519}, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
