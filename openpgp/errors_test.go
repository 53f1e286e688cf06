package openpgp

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestDecryptErrors(t *testing.T) {
	alice, bob, carol := testKeys(t, Ed25519)
	enc, err := Encrypt(testMessage("alice@example.org"), []*Key{bob}, alice)
	if err != nil {
		t.Fatal(err)
	}
	keys := []*Key{bob, alice.Public()}

	t.Run("truncated", func(t *testing.T) {
		for _, n := range []int{len(enc) / 3, len(enc) - 40} {
			_, err := Decrypt(enc[:n], keys)
			wantErr(t, "Decrypt(truncated)", err, ErrMalformed)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		_, err := Decrypt(tamperCiphertext(t, enc), keys)
		wantErr(t, "Decrypt(tampered)", err, ErrCorrupt)
	})
	t.Run("wrong recipient", func(t *testing.T) {
		_, err := Decrypt(enc, []*Key{carol, alice})
		wantErr(t, "Decrypt(not for us)", err, ErrNoKey)
		if !strings.Contains(err.Error(), bob.entity.Subkeys[0].PublicKey.KeyIdString()[8:]) {
			t.Errorf("error %q does not name the recipient key", err)
		}
	})
	t.Run("unknown signer", func(t *testing.T) {
		d, err := Decrypt(enc, []*Key{bob})
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, "SignatureErr", d.SignatureErr, ErrUnknownSigner)
		if !d.Signed || d.Signer != nil {
			t.Errorf("got Signed %v Signer %v, want signed without signer", d.Signed, d.Signer)
		}
	})
	t.Run("wrong from", func(t *testing.T) {
		forged, err := Encrypt(testMessage("boss@example.org"), []*Key{bob}, alice)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Decrypt(forged, keys)
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, "SignatureErr", d.SignatureErr, ErrFromMismatch)
	})
	t.Run("not encrypted", func(t *testing.T) {
		_, err := Decrypt(testMessage("alice@example.org"), keys)
		wantErr(t, "Decrypt(plain message)", err, ErrUnsupported)
	})
}

// tamperCiphertext flips one bit near the end of the encrypted data (in
// the MDC-protected content) and re-armors the message.
func tamperCiphertext(t *testing.T, enc []byte) []byte {
	t.Helper()
	parts := rawParts(t, enc)
	arm := partPayload(t, parts[1])
	raw := dearmorT(t, arm)
	raw = bytes.Clone(raw)
	raw[len(raw)-30] ^= 0x01
	rearm, err := armored("PGP MESSAGE", raw)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Replace(enc, arm, canonical(rearm), 1)
}

func TestVerifyErrors(t *testing.T) {
	alice, bob, _ := testKeys(t, Ed25519)
	signed, err := Sign(testMessage("alice@example.org"), alice)
	if err != nil {
		t.Fatal(err)
	}
	keys := []*Key{alice.Public(), bob.Public()}
	now := time.Now()

	t.Run("tampered", func(t *testing.T) {
		bad := bytes.Replace(signed, []byte("ein Test"), []byte("ein Tost"), 1)
		if bytes.Equal(bad, signed) {
			t.Fatal("test message changed: nothing tampered")
		}
		_, err := Verify(bad, keys, now)
		wantErr(t, "Verify(tampered)", err, ErrBadSignature)
	})
	t.Run("truncated", func(t *testing.T) {
		_, err := Verify(signed[:len(signed)-60], keys, now)
		wantErr(t, "Verify(truncated)", err, ErrMalformed)
	})
	t.Run("unknown signer", func(t *testing.T) {
		_, err := Verify(signed, []*Key{bob}, now)
		wantErr(t, "Verify(unknown signer)", err, ErrUnknownSigner)
	})
	t.Run("wrong from", func(t *testing.T) {
		forged, err := Sign(testMessage("boss@example.org"), alice)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Verify(forged, keys, now)
		wantErr(t, "Verify(wrong From)", err, ErrFromMismatch)
	})
	t.Run("not signed", func(t *testing.T) {
		_, err := Verify(testMessage("alice@example.org"), keys, now)
		wantErr(t, "Verify(plain message)", err, ErrNotSigned)
	})
}

func TestExpiredKey(t *testing.T) {
	short, err := Generate(KeyRequest{Name: "Eve", Address: "eve@example.org", Lifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	old, err := Generate(KeyRequest{Name: "Olga", Address: "olga@example.org", Now: time.Now().Add(-48 * time.Hour), Lifetime: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	msg := bytes.ReplaceAll(testMessage("eve@example.org"), []byte("Alice"), []byte("Eve"))
	signed, err := Sign(msg, short)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(signed, []*Key{short}, time.Now()); err != nil {
		t.Fatalf("Verify while valid: %v", err)
	}
	_, err = Verify(signed, []*Key{short}, time.Now().Add(2*time.Hour))
	wantErr(t, "Verify after expiry", err, ErrKeyExpired)

	_, err = Encrypt(msg, []*Key{old}, nil)
	wantErr(t, "Encrypt to expired key", err, ErrKeyExpired)
	_, err = Sign(msg, old)
	wantErr(t, "Sign with expired key", err, ErrKeyExpired)

	enc, err := Encrypt(msg, []*Key{short}, short)
	if err != nil {
		t.Fatal(err)
	}
	d, err := DecryptAt(enc, []*Key{short}, time.Now().Add(2*time.Hour))
	if err != nil {
		t.Fatalf("DecryptAt after expiry: %v (old mail must stay readable)", err)
	}
	wantErr(t, "SignatureErr after expiry", d.SignatureErr, ErrKeyExpired)
}

func TestSignNeedsSecret(t *testing.T) {
	alice, bob, _ := testKeys(t, Ed25519)
	_, err := Sign(testMessage("alice@example.org"), alice.Public())
	wantErr(t, "Sign(public key)", err, ErrNoSecret)
	_, err = Encrypt(testMessage("alice@example.org"), []*Key{bob}, alice.Public())
	wantErr(t, "Encrypt(signer without secret)", err, ErrNoSecret)
}
