package proto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hpke"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

// Bundle errors.
var (
	ErrNotWrapped     = errors.New("bundle is not wrapped for this device")
	ErrBundleMismatch = errors.New("bundle does not match the log")
	ErrBundleDecrypt  = errors.New("bundle does not decrypt")
)

// Bundle is a sealed secret: the content encrypted once with AES-256-GCM under
// a fresh key, that key wrapped with HPKE to each device. The whole sealed
// bundle is named in the log by its BlobID, which authenticates it.
type Bundle struct {
	V          int    `json:"v"`
	Account    string `json:"account"`
	Name       string `json:"name"`
	Version    uint64 `json:"version"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
	Wraps      []Wrap `json:"wraps"`
}

// Wrap is the content key sealed to one device with HPKE.
type Wrap struct {
	Device string `json:"device"` // DeviceID
	Sealed []byte `json:"sealed"` // enc || ciphertext
}

// RecoveryWrap names the key wrap to the account's recovery key (see
// [RecoveryKey]) among a bundle's wraps.
const RecoveryWrap = "recovery"

// SealBundle encrypts content for the given devices and, when recovery is
// not nil, the account's recovery key. It returns the sealed bundle's bytes
// (to upload) and the reference to append to the log.
func SealBundle(account, name string, version uint64, content []byte, devices []DeviceProfile, recovery []byte) ([]byte, *BundleRef, error) {
	if err := CheckBundleName(name); err != nil {
		return nil, nil, err
	}
	if len(devices) == 0 || len(devices) > MaxBundleItems {
		return nil, nil, fmt.Errorf("bundle %s: %d devices", name, len(devices))
	}
	key := make([]byte, 32)
	nonce := make([]byte, 12)
	rand.Read(key)
	rand.Read(nonce)
	defer clear(key)
	b := Bundle{V: Version, Account: account, Name: name, Version: version, Nonce: nonce}
	aead, err := gcm(key)
	if err != nil {
		return nil, nil, err
	}
	b.Ciphertext = aead.Seal(nil, nonce, content, b.aad())
	ref := &BundleRef{Name: name, Version: version}
	for _, d := range devices {
		if err := b.wrap(d.ID(), d.HPKEKey, key); err != nil {
			return nil, nil, err
		}
		ref.Devices = append(ref.Devices, d.ID())
	}
	if recovery != nil {
		if err := b.wrap(RecoveryWrap, recovery, key); err != nil {
			return nil, nil, err
		}
	}
	blob := mustJSON(b)
	if len(blob) > MaxBlobSize {
		return nil, nil, fmt.Errorf("bundle %s is %d bytes, limit %d", name, len(blob), MaxBlobSize)
	}
	ref.Digest = BlobID(blob)
	return blob, ref, nil
}

// OpenBundle checks blob against the log's reference and decrypts it with
// this device's HPKE key (deviceID is RecoveryWrap for the recovery key).
func OpenBundle(blob []byte, account string, ref *BundleRef, deviceID string, key hpke.PrivateKey) ([]byte, error) {
	if BlobID(blob) != ref.Digest {
		return nil, fmt.Errorf("%w: %s version %d digest differs", ErrBundleMismatch, ref.Name, ref.Version)
	}
	var b Bundle
	if err := Unmarshal(blob, &b); err != nil {
		return nil, fmt.Errorf("%w: bundle: %v", ErrMalformed, err)
	}
	if b.V != Version || b.Account != account || b.Name != ref.Name || b.Version != ref.Version || len(b.Nonce) != 12 {
		return nil, fmt.Errorf("%w: %s header differs from the log", ErrBundleMismatch, ref.Name)
	}
	for _, w := range b.Wraps {
		if w.Device != deviceID {
			continue
		}
		ck, err := hpke.Open(key, hpke.HKDFSHA256(), hpke.AES256GCM(), b.wrapInfo(deviceID), w.Sealed)
		if err != nil || len(ck) != 32 {
			return nil, fmt.Errorf("%w: %s key wrap for this device", ErrBundleDecrypt, ref.Name)
		}
		defer clear(ck)
		aead, err := gcm(ck)
		if err != nil {
			return nil, err
		}
		content, err := aead.Open(nil, b.Nonce, b.Ciphertext, b.aad())
		if err != nil {
			return nil, fmt.Errorf("%w: %s content", ErrBundleDecrypt, ref.Name)
		}
		return content, nil
	}
	return nil, fmt.Errorf("%w: %s version %d", ErrNotWrapped, ref.Name, ref.Version)
}

// wrap seals the content key to one HPKE public key under the wrap's name.
func (b *Bundle) wrap(id string, hpkeKey, key []byte) error {
	pk, err := KEM().NewPublicKey(hpkeKey)
	if err != nil {
		return fmt.Errorf("HPKE key of %s: %w", id, err)
	}
	sealed, err := hpke.Seal(pk, hpke.HKDFSHA256(), hpke.AES256GCM(), b.wrapInfo(id), key)
	if err != nil {
		return fmt.Errorf("wrapping to %s: %w", id, err)
	}
	b.Wraps = append(b.Wraps, Wrap{Device: id, Sealed: sealed})
	return nil
}

// aad binds the content to account, name and version.
func (b *Bundle) aad() []byte {
	return lengthPrefixed("endymail/v1/bundle-content", b.Account, b.Name, fmt.Sprint(b.Version))
}

// wrapInfo binds a key wrap to account, bundle, version and device.
func (b *Bundle) wrapInfo(device string) []byte {
	return lengthPrefixed("endymail/v1/bundle-key", b.Account, b.Name, fmt.Sprint(b.Version), device)
}

func lengthPrefixed(parts ...string) []byte {
	var out []byte
	for _, p := range parts {
		out = binary.BigEndian.AppendUint32(out, uint32(len(p)))
		out = append(out, p...)
	}
	return out
}

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
