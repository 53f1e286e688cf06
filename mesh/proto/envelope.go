package proto

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/endymail/endymail/udf"
)

// Envelope carries exact payload bytes and the signatures over them. The
// payload is never re-serialised: what was signed is what is verified and
// what is hashed into the log.
type Envelope struct {
	Payload    []byte      `json:"payload"`
	Signatures []Signature `json:"signatures"`
}

// Signature is one Ed25519ctx signature over an envelope's payload.
type Signature struct {
	Key string `json:"key"` // KeyID of the signer
	Sig []byte `json:"sig"`
}

// Signature errors.
var (
	ErrNoSignature  = errors.New("no signature by the expected key")
	ErrBadSignature = errors.New("signature does not verify")
)

// SigningKey is an Ed25519 private key. It is deliberately not comparable.
type SigningKey struct {
	_    [0]func()
	priv ed25519.PrivateKey
}

// GenerateSigningKey makes a new random signing key.
func GenerateSigningKey() (*SigningKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return &SigningKey{priv: priv}, nil
}

// SigningKeyFromSeed derives the key from a 32-byte seed.
func SigningKeyFromSeed(seed []byte) (*SigningKey, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("signing key seed is %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	return &SigningKey{priv: ed25519.NewKeyFromSeed(seed)}, nil
}

// Seed returns the 32-byte seed, for storing the key at rest.
func (k *SigningKey) Seed() []byte { return k.priv.Seed() }

// Public returns the public key.
func (k *SigningKey) Public() ed25519.PublicKey { return k.priv.Public().(ed25519.PublicKey) }

// ID returns the KeyID of the public key.
func (k *SigningKey) ID() string { return KeyID(k.Public()) }

// KeyID names an Ed25519 public key by its UDF fingerprint.
func KeyID(pub ed25519.PublicKey) string { return udf.SHA512(TypeSigner, pub).String() }

// Sign returns an envelope over payload signed by every key under context.
func Sign(context string, payload []byte, keys ...*SigningKey) (Envelope, error) {
	env := Envelope{Payload: append([]byte(nil), payload...)}
	for _, k := range keys {
		sig, err := k.priv.Sign(nil, payload, &ed25519.Options{Context: context})
		if err != nil {
			return Envelope{}, fmt.Errorf("signing: %w", err)
		}
		env.Signatures = append(env.Signatures, Signature{Key: k.ID(), Sig: sig})
	}
	return env, nil
}

// Verify checks that the envelope carries a valid signature by pub under
// context.
func (e Envelope) Verify(context string, pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: malformed public key", ErrBadSignature)
	}
	id := KeyID(pub)
	for _, s := range e.Signatures {
		if s.Key != id {
			continue
		}
		if ed25519.VerifyWithOptions(pub, e.Payload, s.Sig, &ed25519.Options{Context: context}) != nil {
			return fmt.Errorf("%w: key %s", ErrBadSignature, id)
		}
		return nil
	}
	return fmt.Errorf("%w: key %s", ErrNoSignature, id)
}

// Marshal encodes the envelope for the wire and for storage.
func (e Envelope) Marshal() []byte {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err) // []byte and string fields only: cannot fail
	}
	return b
}

// ParseEnvelope decodes an envelope strictly: unknown fields, trailing data
// and oversized payloads are errors.
func ParseEnvelope(data []byte) (Envelope, error) {
	var e Envelope
	if err := Unmarshal(data, &e); err != nil {
		return Envelope{}, fmt.Errorf("malformed envelope: %w", err)
	}
	if len(e.Payload) == 0 {
		return Envelope{}, errors.New("malformed envelope: empty payload")
	}
	if len(e.Signatures) == 0 || len(e.Signatures) > 4 {
		return Envelope{}, fmt.Errorf("malformed envelope: %d signatures", len(e.Signatures))
	}
	for _, s := range e.Signatures {
		if len(s.Sig) != ed25519.SignatureSize {
			return Envelope{}, errors.New("malformed envelope: signature length")
		}
	}
	return e, nil
}

// Unmarshal decodes one JSON value into v, refusing unknown fields and
// trailing data.
func Unmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if len(bytes.TrimSpace(data[dec.InputOffset():])) != 0 {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
