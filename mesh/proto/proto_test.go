package proto

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestEnvelopeRoundTripAndContext(t *testing.T) {
	k := mustKey(t)
	env, err := Sign(ContextEntry, []byte(`{"x":1}`), k)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseEnvelope(env.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Payload, env.Payload) {
		t.Errorf("payload changed in round trip")
	}
	if err := got.Verify(ContextEntry, k.Public()); err != nil {
		t.Errorf("verify: %v", err)
	}
	if err := got.Verify(ContextBlob, k.Public()); !errors.Is(err, ErrBadSignature) {
		t.Errorf("verify under another context: got %v, want ErrBadSignature", err)
	}
	if err := got.Verify(ContextEntry, mustKey(t).Public()); !errors.Is(err, ErrNoSignature) {
		t.Errorf("verify with another key: got %v, want ErrNoSignature", err)
	}
}

func TestParseEnvelopeStrict(t *testing.T) {
	k := mustKey(t)
	env, _ := Sign(ContextEntry, []byte("p"), k)
	good := string(env.Marshal())
	for name, in := range map[string]string{
		"unknown field": strings.Replace(good, `"payload"`, `"extra":1,"payload"`, 1),
		"trailing data": good + `{}`,
		"trailing junk": good + `x`,
		"no signatures": `{"payload":"cA==","signatures":[]}`,
		"empty payload": `{"payload":"","signatures":[]}`,
		"short sig":     `{"payload":"cA==","signatures":[{"key":"K","sig":"AAAA"}]}`,
		"not json":      `payload`,
	} {
		if _, err := ParseEnvelope([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestWitness(t *testing.T) {
	c := Witness("MACC", "MDEV", []byte("client-nonce"), []byte("server-nonce"))
	if len(c) != 24 || strings.Count(c, "-") != 4 {
		t.Errorf("code %q: want 5 groups of 4", c)
	}
	if c2 := Witness("MACC", "MDEV", []byte("client-nonce"), []byte("server-nonce")); c2 != c {
		t.Errorf("not deterministic: %s vs %s", c, c2)
	}
	for _, other := range []string{
		Witness("MACX", "MDEV", []byte("client-nonce"), []byte("server-nonce")),
		Witness("MACC", "MDEX", []byte("client-nonce"), []byte("server-nonce")),
		Witness("MACC", "MDEV", []byte("client-noncx"), []byte("server-nonce")),
		Witness("MACC", "MDEV", []byte("client-nonce"), []byte("server-noncx")),
		// Length prefixes: moving bytes between parts changes the code.
		Witness("MACCM", "DEV", []byte("client-nonce"), []byte("server-nonce")),
	} {
		if other == c {
			t.Errorf("code did not change with its input")
		}
	}
	if got := NormalizeCode(strings.ToLower(strings.ReplaceAll(c, "-", " "))); got != c {
		t.Errorf("NormalizeCode: got %s, want %s", got, c)
	}
}

func TestBundleSealOpen(t *testing.T) {
	kemA, _ := KEM().GenerateKey()
	kemB, _ := KEM().GenerateKey()
	a := DeviceProfile{Name: "a", SignKey: mustKey(t).Public(), HPKEKey: kemA.PublicKey().Bytes()}
	b := DeviceProfile{Name: "b", SignKey: mustKey(t).Public(), HPKEKey: kemB.PublicKey().Bytes()}
	content := []byte("secret keys")
	blob, ref, err := SealBundle("MACC", "mail", 3, content, []DeviceProfile{a}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenBundle(blob, "MACC", ref, a.ID(), kemA)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("open: got %q, %v", got, err)
	}
	if _, err := OpenBundle(blob, "MACC", ref, b.ID(), kemB); !errors.Is(err, ErrNotWrapped) {
		t.Errorf("device not wrapped to: got %v, want ErrNotWrapped", err)
	}
	// A wrap addressed to a under b's name: the info binding makes it fail.
	if _, err := OpenBundle(blob, "MACC", ref, a.ID(), kemB); !errors.Is(err, ErrBundleDecrypt) {
		t.Errorf("wrong key: got %v, want ErrBundleDecrypt", err)
	}
	other := *ref
	other.Version = 4
	if _, err := OpenBundle(blob, "MACC", &other, a.ID(), kemA); !errors.Is(err, ErrBundleMismatch) {
		t.Errorf("version differs from log: got %v, want ErrBundleMismatch", err)
	}
	tampered := bytes.Replace(blob, []byte(`"version":3`), []byte(`"version":4`), 1)
	other.Digest = BlobID(tampered)
	if _, err := OpenBundle(tampered, "MACC", &other, a.ID(), kemA); !errors.Is(err, ErrBundleDecrypt) {
		t.Errorf("re-labelled bundle: got %v, want ErrBundleDecrypt", err)
	}
	if _, err := OpenBundle(blob, "MACX", ref, a.ID(), kemA); !errors.Is(err, ErrBundleMismatch) {
		t.Errorf("other account: got %v, want ErrBundleMismatch", err)
	}
}

func TestRecoveryWrap(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, 32)
	rk, err := RecoveryKEM(seed)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := RecoveryKEM(seed)
	if !bytes.Equal(rk.PublicKey().Bytes(), again.PublicKey().Bytes()) {
		t.Fatal("the recovery key is not derived deterministically from the seed")
	}
	kem, _ := KEM().GenerateKey()
	d := DeviceProfile{Name: "d", SignKey: mustKey(t).Public(), HPKEKey: kem.PublicKey().Bytes()}
	blob, ref, err := SealBundle("MACC", "mail", 1, []byte("keys"), []DeviceProfile{d}, rk.PublicKey().Bytes())
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenBundle(blob, "MACC", ref, RecoveryWrap, rk)
	if err != nil || string(got) != "keys" {
		t.Errorf("open with the recovery key: %q %v", got, err)
	}
	other, _ := RecoveryKEM(bytes.Repeat([]byte{8}, 32))
	if _, err := OpenBundle(blob, "MACC", ref, RecoveryWrap, other); !errors.Is(err, ErrBundleDecrypt) {
		t.Errorf("another seed's recovery key: got %v, want ErrBundleDecrypt", err)
	}
}
