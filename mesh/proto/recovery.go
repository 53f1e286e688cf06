package proto

import (
	"crypto/hkdf"
	"crypto/hpke"
	"crypto/sha256"
	"fmt"
)

// RecoveryKEM derives the account's recovery HPKE key pair from the root
// seed (HKDF-SHA256 with its own info string, then the KEM's DeriveKeyPair),
// so that whoever recovers the seed from the shares can open every bundle
// even when no device is left.
func RecoveryKEM(seed []byte) (hpke.PrivateKey, error) {
	if len(seed) != 32 {
		return nil, fmt.Errorf("root seed is %d bytes, want 32", len(seed))
	}
	ikm, err := hkdf.Key(sha256.New, seed, nil, "endymail/v1 recovery-kem", 64)
	if err != nil {
		return nil, err
	}
	defer clear(ikm)
	return KEM().DeriveKeyPair(ikm)
}
