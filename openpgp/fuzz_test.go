package openpgp

import (
	"testing"
	"time"
)

var messageVectors = []string{"signed.eml", "encrypted.eml", "gpg-encrypted.eml", "gpg-signed.eml", "gpg-nomdc.eml"}

func FuzzDecrypt(f *testing.F) {
	for _, name := range messageVectors {
		f.Add(readVector(f, name))
	}
	alice, bob := vectorKeys(f)
	keys := []*Key{bob, alice.Public()}
	f.Fuzz(func(t *testing.T, msg []byte) {
		d, err := DecryptAt(msg, keys, time.Now())
		if err == nil && d.Message == nil {
			t.Fatal("Decrypt: no error and no message")
		}
		if err == nil && d.Signer != nil && d.SignatureErr != nil {
			t.Fatal("Decrypt: signer set together with a signature error")
		}
	})
}

func FuzzVerify(f *testing.F) {
	for _, name := range messageVectors {
		f.Add(readVector(f, name))
	}
	alice, bob := vectorKeys(f)
	keys := []*Key{bob.Public(), alice.Public()}
	f.Fuzz(func(t *testing.T, msg []byte) {
		v, err := Verify(msg, keys, time.Now())
		if err == nil && (v.Signer == nil || v.Message == nil) {
			t.Fatal("Verify: no error but no signer or message")
		}
	})
}

func FuzzParsePublic(f *testing.F) {
	for _, name := range []string{"alice.pub.asc", "alice.key", "bob.key", "carol-revoked-uid.pub.asc"} {
		data := readVector(f, name)
		f.Add(data)
		if raw, err := dearmor(data); err == nil {
			f.Add(raw)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParsePublic(data)
		if err != nil {
			return
		}
		if k.HasSecret() {
			t.Fatal("ParsePublic kept a secret part")
		}
		for _, id := range k.UserIDsAt(time.Now()) {
			if id.Revoked == (id.Reason == "") || id.Address != "" && !id.Revoked && !k.HasAddress(id.Address, time.Now()) {
				t.Fatalf("UserIDsAt: %+v disagrees with itself or HasAddress", id)
			}
		}
		arm, err := k.ArmoredPublic()
		if err != nil {
			return // go-crypto parses some keys it cannot write back
		}
		again, err := ParsePublic(arm)
		if err != nil || again.Fingerprint() != k.Fingerprint() {
			t.Fatalf("round trip: got %v, %v; want %s", again, err, k)
		}
	})
}
