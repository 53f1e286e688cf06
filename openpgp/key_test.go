package openpgp

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

func TestGenerateAlgorithms(t *testing.T) {
	want := map[KeyType][2]packet.PublicKeyAlgorithm{
		Ed25519: {packet.PubKeyAlgoEdDSA, packet.PubKeyAlgoECDH}, // 22, 18
		RSA3072: {packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSA},
	}
	for _, kt := range keyTypes {
		t.Run(kt.String(), func(t *testing.T) {
			k, _, _ := testKeys(t, kt)
			e := k.entity
			if e.PrimaryKey.Version != 4 {
				t.Errorf("primary version: got %d, want 4", e.PrimaryKey.Version)
			}
			if got := e.PrimaryKey.PubKeyAlgo; got != want[kt][0] {
				t.Errorf("primary algorithm: got %d, want %d", got, want[kt][0])
			}
			if len(e.Subkeys) != 1 {
				t.Fatalf("subkeys: got %d, want 1", len(e.Subkeys))
			}
			sub := e.Subkeys[0]
			if sub.PublicKey.Version != 4 || sub.PublicKey.PubKeyAlgo != want[kt][1] {
				t.Errorf("subkey: got v%d algorithm %d, want v4 algorithm %d", sub.PublicKey.Version, sub.PublicKey.PubKeyAlgo, want[kt][1])
			}
			if !sub.Sig.FlagEncryptCommunications || !sub.Sig.FlagEncryptStorage || sub.Sig.FlagSign {
				t.Errorf("subkey flags: got %+v", sub.Sig)
			}
			if kt == Ed25519 {
				if c, _ := sub.PublicKey.Curve(); c != packet.Curve25519 {
					t.Errorf("subkey curve: got %q, want %q", c, packet.Curve25519)
				}
			} else if bits, _ := e.PrimaryKey.BitLength(); bits != 3072 {
				t.Errorf("RSA bits: got %d, want 3072", bits)
			}
			sig, id := e.PrimarySelfSignature()
			if id == nil || id.Name != "Alice <alice@example.org>" {
				t.Errorf("user ID: got %v, want Alice <alice@example.org>", id)
			}
			if !sig.FlagCertify || !sig.FlagSign || sig.FlagEncryptCommunications {
				t.Errorf("primary flags: certify %v sign %v encrypt %v", sig.FlagCertify, sig.FlagSign, sig.FlagEncryptCommunications)
			}
			if !bytes.Equal(sig.PreferredSymmetric[:1], []byte{uint8(packet.CipherAES256)}) {
				t.Errorf("preferred ciphers: got %v, want AES-256 (9) first", sig.PreferredSymmetric)
			}
			if !bytes.Equal(sig.PreferredHash, []byte{8}) {
				t.Errorf("preferred hashes: got %v, want [8] (SHA-256)", sig.PreferredHash)
			}
			if sig.SEIPDv2 || len(sig.PreferredCipherSuites) != 0 || !sig.SEIPDv1 {
				t.Errorf("features: SEIPDv1 %v SEIPDv2 %v suites %v, want v1 only", sig.SEIPDv1, sig.SEIPDv2, sig.PreferredCipherSuites)
			}
		})
	}
}

func TestKeyIdentifiers(t *testing.T) {
	k, _, _ := testKeys(t, Ed25519)
	if !regexp.MustCompile(`^[0-9A-F]{40}$`).MatchString(k.Fingerprint()) {
		t.Errorf("fingerprint: got %q, want 40 upper-case hex digits", k.Fingerprint())
	}
	if !regexp.MustCompile(`^[0-9A-F]{16}$`).MatchString(k.KeyID()) {
		t.Errorf("key ID: got %q, want 16 upper-case hex digits", k.KeyID())
	}
	if !strings.HasSuffix(k.Fingerprint(), k.KeyID()) {
		t.Errorf("key ID %s is not the low 64 bits of %s", k.KeyID(), k.Fingerprint())
	}
}

func TestGenerateExpiry(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	k, err := Generate(KeyRequest{Name: "Dora", Address: "dora@example.org", Now: now, Lifetime: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := k.Expires(), now.Add(48*time.Hour); !got.Equal(want) {
		t.Errorf("Expires: got %v, want %v", got, want)
	}
	if k.Expired(now.Add(47*time.Hour)) || !k.Expired(now.Add(49*time.Hour)) {
		t.Errorf("Expired: got %v at +47h, %v at +49h; want false, true", k.Expired(now.Add(47*time.Hour)), k.Expired(now.Add(49*time.Hour)))
	}
	d, err := Generate(KeyRequest{Address: "dora@example.org", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.Expires(), now.Add(DefaultLifetime); !got.Equal(want) {
		t.Errorf("default Expires: got %v, want %v", got, want)
	}
}

func TestGenerateRejects(t *testing.T) {
	for _, req := range []KeyRequest{
		{Name: "X", Address: ""},
		{Name: "X", Address: "not an address"},
		{Name: "X <y>", Address: "x@example.org"},
		{Name: "X", Address: "x@example.org", Lifetime: -time.Second},
		{Name: "X", Address: "x@example.org", Type: KeyType(7)},
	} {
		if _, err := Generate(req); err == nil {
			t.Errorf("Generate(%+v): got no error", req)
		}
	}
}

func TestMarshalParseKey(t *testing.T) {
	for _, kt := range keyTypes {
		k, _, _ := testKeys(t, kt)
		data, err := k.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseKey(data)
		if err != nil {
			t.Fatalf("ParseKey: %v", err)
		}
		if got.Fingerprint() != k.Fingerprint() || !got.HasSecret() {
			t.Fatalf("ParseKey: got %s (secret %v), want %s with secret", got, got.HasSecret(), k)
		}
		again, _ := got.Marshal()
		if !bytes.Equal(again, data) {
			t.Errorf("Marshal after ParseKey differs")
		}
		pub, _ := k.ArmoredPublic()
		if _, err := ParseKey(pub); err == nil {
			t.Errorf("ParseKey(public key): got no error")
		}
		if _, err := k.Public().Marshal(); err == nil {
			t.Errorf("Public().Marshal(): got no error")
		}
	}
}

func TestSerializeSecretS2K(t *testing.T) {
	k, _, _ := testKeys(t, Ed25519)
	raw, err := k.SerializeSecret([]byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	// Walk the secret key packets: after the public part comes the S2K
	// usage octet (254), cipher (9 = AES-256), S2K mode (3), hash (8).
	r := packet.NewReader(bytes.NewReader(raw))
	n := 0
	for {
		p, err := r.Next()
		if err != nil {
			break
		}
		pk, ok := p.(*packet.PrivateKey)
		if !ok {
			continue
		}
		n++
		if !pk.Encrypted {
			t.Errorf("secret key %X is not protected", pk.KeyId)
		}
		var pub bytes.Buffer
		if err := pk.PublicKey.Serialize(&pub); err != nil {
			t.Fatal(err)
		}
		body := pub.Bytes()[2:] // skip the packet header of the public key
		i := bytes.Index(raw, body)
		if i < 0 {
			t.Fatalf("public part of %X not found", pk.KeyId)
		}
		if got := raw[i+len(body) : i+len(body)+4]; !bytes.Equal(got, []byte{254, 9, 3, 8}) {
			t.Errorf("key %X: usage, cipher, S2K mode, hash: got %v, want [254 9 3 8]", pk.KeyId, got)
		}
	}
	if n != 2 {
		t.Fatalf("secret key packets: got %d, want 2", n)
	}
	if k.HasSecret() != true {
		t.Error("SerializeSecret changed the key")
	}
	back, err := ParseSecret(raw, []byte("correct horse"))
	if err != nil || back.Fingerprint() != k.Fingerprint() {
		t.Fatalf("ParseSecret: got %v, %v", back, err)
	}
	if _, err := ParseSecret(raw, []byte("wrong")); err == nil {
		t.Error("ParseSecret with wrong passphrase: got no error")
	}
	if _, err := k.SerializeSecret(nil); err == nil {
		t.Error("SerializeSecret(empty passphrase): got no error")
	}
}

func TestParsePublic(t *testing.T) {
	k, b, _ := testKeys(t, Ed25519)
	arm, _ := k.ArmoredPublic()
	got, err := ParsePublic(arm)
	if err != nil || got.Fingerprint() != k.Fingerprint() || got.HasSecret() {
		t.Fatalf("ParsePublic: got %v (secret %v), %v", got, got != nil && got.HasSecret(), err)
	}
	sec, _ := k.Marshal()
	got, err = ParsePublic(sec)
	if err != nil || got.HasSecret() {
		t.Fatalf("ParsePublic(secret key): got secret %v, %v; want the public part", got != nil && got.HasSecret(), err)
	}
	barm, _ := b.ArmoredPublic()
	ring, err := ReadKeyRing(append(dearmorT(t, arm), dearmorT(t, barm)...))
	if err != nil || len(ring) != 2 {
		t.Fatalf("ReadKeyRing: got %d keys, %v; want 2", len(ring), err)
	}
	if _, err := ParsePublic(append(dearmorT(t, arm), dearmorT(t, barm)...)); err == nil {
		t.Error("ParsePublic(two keys): got no error")
	}
	for _, bad := range [][]byte{nil, []byte("hello"), arm[:len(arm)/2]} {
		if _, err := ParsePublic(bad); err == nil {
			t.Errorf("ParsePublic(%q): got no error", bad)
		}
	}
}

func dearmorT(t *testing.T, data []byte) []byte {
	t.Helper()
	raw, err := dearmor(data)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
