// Package openpgp owns endymail's OpenPGP mail keys and PGP/MIME messages.
//
// Keys: [Generate] makes a v4 key that gpg 2.2, rnp 0.16 (Thunderbird) and
// sq read: an Ed25519 (EdDSA legacy, algorithm 22) certify+sign primary with
// a Curve25519 ECDH (algorithm 18) encryption subkey, or RSA-3072 for both;
// preferences AES-256 and SHA-256; no AEAD. [Key.Marshal] / [ParseKey] carry
// the unprotected key inside an already encrypted key bundle;
// [Key.ArmoredSecret] exports it for other programs under an iterated+salted
// S2K passphrase; [ParsePublic] and [ReadKeyRing] read other people's keys,
// and [Key.UserIDsAt] / [Key.HasAddress] tell which of their user IDs the
// owner revoked.
//
// Messages: [Sign], [Verify], [Encrypt] and [Decrypt] work on whole RFC 5322
// messages and produce / accept RFC 3156 PGP/MIME.
package openpgp

import (
	"bytes"
	"crypto"
	"fmt"
	"io"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/ProtonMail/go-crypto/openpgp/s2k"
)

// KeyType selects the public-key algorithms of a generated key.
type KeyType int

const (
	// Ed25519 is an EdDSA (legacy id 22) primary with a Curve25519 ECDH
	// (id 18) subkey. It is the default.
	Ed25519 KeyType = iota
	// RSA3072 is an RSA-3072 primary with an RSA-3072 subkey.
	RSA3072
)

// String names the key type as the CLI shows it.
func (t KeyType) String() string {
	switch t {
	case Ed25519:
		return "ed25519"
	case RSA3072:
		return "rsa3072"
	}
	return fmt.Sprintf("KeyType(%d)", int(t))
}

// DefaultLifetime is the validity of a generated key when
// KeyRequest.Lifetime is zero.
const DefaultLifetime = 3 * 365 * 24 * time.Hour

// s2kCount is the iteration count of the passphrase S2K on exported secret
// keys: the largest value OpenPGP can encode.
const s2kCount = 65011712

// KeyRequest describes a key to generate.
type KeyRequest struct {
	Name     string        // display name of the user ID, may be empty
	Address  string        // mail address of the user ID, required
	Type     KeyType       // Ed25519 unless set
	Now      time.Time     // creation time; time.Now() when zero
	Lifetime time.Duration // validity; DefaultLifetime when zero
}

// Key is an OpenPGP key: a public key, possibly with its secret part.
// Keys are not comparable with ==; compare fingerprints.
type Key struct {
	_      [0]func()
	entity *openpgp.Entity
}

// keyConfig is the go-crypto configuration for generating keys of type t.
// Everything is set explicitly so a library default can never change what
// the peers are given.
func keyConfig(t KeyType, now time.Time, lifetime time.Duration) (*packet.Config, error) {
	cfg := &packet.Config{
		V6Keys:                 false,
		DefaultHash:            crypto.SHA256,
		DefaultCipher:          packet.CipherAES256,
		DefaultCompressionAlgo: packet.CompressionZLIB, // advertised after "none"
		AEADConfig:             nil,
		Time:                   func() time.Time { return now },
		KeyLifetimeSecs:        uint32(lifetime / time.Second),
	}
	switch t {
	case Ed25519:
		cfg.Algorithm = packet.PubKeyAlgoEdDSA
		cfg.Curve = packet.Curve25519
	case RSA3072:
		cfg.Algorithm = packet.PubKeyAlgoRSA
		cfg.RSABits = 3072
	default:
		return nil, fmt.Errorf("unknown key type %d", int(t))
	}
	return cfg, nil
}

// Generate makes a new v4 key with one user ID "Name <Address>".
func Generate(req KeyRequest) (*Key, error) {
	if _, err := mail.ParseAddress("<" + req.Address + ">"); err != nil || req.Address == "" {
		return nil, fmt.Errorf("generate key: invalid mail address %q", req.Address)
	}
	if strings.ContainsAny(req.Name, "()<>\x00\r\n") {
		return nil, fmt.Errorf("generate key: name %q contains one of ()<> or a control character", req.Name)
	}
	if req.Lifetime < 0 || req.Lifetime/time.Second > 1<<32-1 {
		return nil, fmt.Errorf("generate key: lifetime %v out of range", req.Lifetime)
	}
	now, lifetime := req.Now, req.Lifetime
	if now.IsZero() {
		now = time.Now()
	}
	if lifetime == 0 {
		lifetime = DefaultLifetime
	}
	cfg, err := keyConfig(req.Type, now.Truncate(time.Second), lifetime)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	e, err := openpgp.NewEntity(req.Name, "", req.Address, cfg)
	if err != nil {
		return nil, fmt.Errorf("generate %v key: %w", req.Type, err)
	}
	return &Key{entity: e}, nil
}

// Fingerprint is the v4 fingerprint as 40 upper-case hex digits.
func (k *Key) Fingerprint() string {
	return fmt.Sprintf("%X", k.entity.PrimaryKey.Fingerprint)
}

// KeyID is the primary key's 64-bit ID as 16 upper-case hex digits without
// "0x" (Thunderbird's openpgp_key_id form).
func (k *Key) KeyID() string {
	return fmt.Sprintf("%016X", k.entity.PrimaryKey.KeyId)
}

// String returns the fingerprint.
func (k *Key) String() string { return k.Fingerprint() }

// HasSecret reports whether the key holds its (unprotected) secret part.
func (k *Key) HasSecret() bool {
	return k.entity.PrivateKey != nil && !k.entity.PrivateKey.Encrypted
}

// Created is the creation time of the primary key.
func (k *Key) Created() time.Time { return k.entity.PrimaryKey.CreationTime }

// Expires is the expiry of the primary key; zero when it never expires.
func (k *Key) Expires() time.Time {
	sig, _ := k.entity.PrimarySelfSignature()
	if sig == nil || sig.KeyLifetimeSecs == nil || *sig.KeyLifetimeSecs == 0 {
		return time.Time{}
	}
	return k.Created().Add(time.Duration(*sig.KeyLifetimeSecs) * time.Second)
}

// Expired reports whether the key is expired or revoked at now.
func (k *Key) Expired(now time.Time) bool {
	sig, _ := k.entity.PrimarySelfSignature()
	return sig == nil || k.entity.PrimaryKey.KeyExpired(sig, now) || k.entity.Revoked(now)
}

// UserIDs returns the key's user IDs, e.g. "Alice <alice@example.com>",
// revoked ones included; [Key.UserIDsAt] tells them apart.
func (k *Key) UserIDs() []string {
	ids := make([]string, 0, len(k.entity.Identities))
	for id := range k.entity.Identities {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// UserID is one user ID of a key and whether the key's owner revoked it.
type UserID struct {
	ID      string // as the key has it, e.g. "Alice <alice@example.com>"
	Address string // the mail address in it as written; "" when none
	Revoked bool   // a certification revocation by the key itself is in force
	Reason  string // the revocation's reason, as people read it; "" when not revoked
}

// UserIDsAt returns the key's user IDs, sorted by ID, each with its
// revocation state at now: a user ID is revoked by a certification
// revocation signature (type 0x30) the key made over it, such as `gpg
// --quick-revoke-uid` writes, that has not expired at now (go-crypto's
// Identity.Revoked; a revocation for key compromise counts from any time).
func (k *Key) UserIDsAt(now time.Time) []UserID {
	out := make([]UserID, 0, len(k.entity.Identities))
	for _, name := range k.UserIDs() {
		id := k.entity.Identities[name]
		u := UserID{ID: name, Address: id.UserId.Email, Revoked: id.Revoked(now)}
		if u.Revoked {
			u.Reason = revocationReason(id.Revocations)
		}
		out = append(out, u)
	}
	return out
}

// revocationReason describes the first revocation's reason (RFC 4880
// 5.2.3.23).
func revocationReason(revs []*packet.Signature) string {
	if len(revs) == 0 {
		return ""
	}
	sig := revs[0]
	reason := "no reason given"
	if sig.RevocationReason != nil {
		switch *sig.RevocationReason {
		case packet.KeySuperseded:
			reason = "key superseded"
		case packet.KeyCompromised:
			reason = "key compromised"
		case packet.KeyRetired:
			reason = "key retired"
		case packet.UserIDNotValid:
			reason = "user ID no longer valid"
		}
	}
	if sig.RevocationReasonText != "" {
		reason += ": " + sig.RevocationReasonText
	}
	return reason + " (" + sig.CreationTime.UTC().Format(time.DateOnly) + ")"
}

// HasAddress reports whether addr is the address of a user ID of the key
// that is not revoked at now (compared case-insensitively).
func (k *Key) HasAddress(addr string, now time.Time) bool {
	for _, id := range k.entity.Identities {
		if strings.EqualFold(id.UserId.Email, addr) && !id.Revoked(now) {
			return true
		}
	}
	return false
}

// Public returns the key without its secret part.
func (k *Key) Public() *Key {
	e := *k.entity
	e.PrivateKey = nil
	e.Subkeys = make([]openpgp.Subkey, len(k.entity.Subkeys))
	for i, sub := range k.entity.Subkeys {
		sub.PrivateKey = nil
		e.Subkeys[i] = sub
	}
	return &Key{entity: &e}
}

// ArmoredPublic exports the public key ("PGP PUBLIC KEY BLOCK").
func (k *Key) ArmoredPublic() ([]byte, error) {
	raw, err := k.SerializePublic()
	if err != nil {
		return nil, err
	}
	return armored(openpgp.PublicKeyType, raw)
}

// SerializePublic returns the transferable public key in binary form.
func (k *Key) SerializePublic() ([]byte, error) {
	var raw bytes.Buffer
	if err := k.entity.Serialize(&raw); err != nil {
		return nil, fmt.Errorf("export public key %s: %w", k.Fingerprint(), err)
	}
	return raw.Bytes(), nil
}

// Marshal returns the key with its secret part unprotected, in binary form,
// for storage inside an encrypted key bundle only. ParseKey reads it back.
func (k *Key) Marshal() ([]byte, error) {
	if !k.HasSecret() {
		return nil, fmt.Errorf("marshal key %s: %w", k.Fingerprint(), ErrNoSecret)
	}
	var buf bytes.Buffer
	if err := k.entity.SerializePrivateWithoutSigning(&buf, nil); err != nil {
		return nil, fmt.Errorf("marshal key %s: %w", k.Fingerprint(), err)
	}
	return buf.Bytes(), nil
}

// SerializeSecret exports the secret key in binary form with every secret
// key packet protected by passphrase: AES-256, iterated+salted S2K (mode 3)
// with SHA-256, SHA-1 checksum (usage 254) — the form gpg 2.2, rnp 0.16 and
// sq import. The key itself stays unprotected.
func (k *Key) SerializeSecret(passphrase []byte) ([]byte, error) {
	if len(passphrase) == 0 {
		return nil, fmt.Errorf("export secret key %s: empty passphrase", k.Fingerprint())
	}
	raw, err := k.Marshal()
	if err != nil {
		return nil, err
	}
	cp, err := readOne(raw)
	if err != nil {
		return nil, fmt.Errorf("export secret key %s: %w", k.Fingerprint(), err)
	}
	cfg := &packet.Config{
		DefaultCipher: packet.CipherAES256,
		AEADConfig:    nil,
		S2KConfig: &s2k.Config{
			S2KMode:  s2k.IteratedSaltedS2K,
			Hash:     crypto.SHA256,
			S2KCount: s2kCount,
		},
	}
	if err := cp.entity.EncryptPrivateKeys(passphrase, cfg); err != nil {
		return nil, fmt.Errorf("export secret key %s: %w", k.Fingerprint(), err)
	}
	var buf bytes.Buffer
	if err := cp.entity.SerializePrivateWithoutSigning(&buf, nil); err != nil {
		return nil, fmt.Errorf("export secret key %s: %w", k.Fingerprint(), err)
	}
	return buf.Bytes(), nil
}

// ArmoredSecret is SerializeSecret armored ("PGP PRIVATE KEY BLOCK").
func (k *Key) ArmoredSecret(passphrase []byte) ([]byte, error) {
	raw, err := k.SerializeSecret(passphrase)
	if err != nil {
		return nil, err
	}
	return armored(openpgp.PrivateKeyType, raw)
}

func armored(blockType string, raw []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, blockType, nil)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(raw); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ParseKey reads one key written by Marshal. The secret parts must be
// present and unprotected.
func ParseKey(data []byte) (*Key, error) {
	k, err := readOne(data)
	if err != nil {
		return nil, fmt.Errorf("parse key: %w", err)
	}
	if !k.HasSecret() {
		return nil, fmt.Errorf("parse key %s: %w", k.Fingerprint(), ErrNoSecret)
	}
	for _, sub := range k.entity.Subkeys {
		if sub.PrivateKey == nil || sub.PrivateKey.Encrypted {
			return nil, fmt.Errorf("parse key %s: subkey %X: %w", k.Fingerprint(), sub.PublicKey.KeyId, ErrNoSecret)
		}
	}
	return k, nil
}

// ParseSecret reads one armored or binary secret key protected with
// passphrase (as ArmoredSecret writes it) and removes the protection.
func ParseSecret(data, passphrase []byte) (*Key, error) {
	k, err := readOne(data)
	if err != nil {
		return nil, fmt.Errorf("parse secret key: %w", err)
	}
	if k.entity.PrivateKey == nil {
		return nil, fmt.Errorf("parse secret key %s: %w", k.Fingerprint(), ErrNoSecret)
	}
	if err := k.entity.DecryptPrivateKeys(passphrase); err != nil {
		return nil, fmt.Errorf("parse secret key %s: wrong passphrase or damaged key: %w", k.Fingerprint(), err)
	}
	return k, nil
}

// ParsePublic reads exactly one armored or binary key and returns its public
// part (any secret part in data is dropped).
func ParsePublic(data []byte) (*Key, error) {
	k, err := readOne(data)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	return k.Public(), nil
}

// ReadKeyRing reads one or more armored or binary keys (public or secret;
// secret parts stay as they are, protected or not).
func ReadKeyRing(data []byte) ([]*Key, error) {
	var (
		el  openpgp.EntityList
		err error
	)
	if isArmored(data) {
		el, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	} else {
		el, err = openpgp.ReadKeyRing(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("read key ring: %w", packetError(err))
	}
	keys := make([]*Key, 0, len(el))
	for _, e := range el {
		if len(e.Identities) == 0 {
			return nil, fmt.Errorf("read key ring: key %X has no valid user ID: %w", e.PrimaryKey.Fingerprint, ErrMalformed)
		}
		keys = append(keys, &Key{entity: e})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("read key ring: no key found: %w", ErrMalformed)
	}
	return keys, nil
}

func readOne(data []byte) (*Key, error) {
	keys, err := ReadKeyRing(data)
	if err != nil {
		return nil, err
	}
	if len(keys) != 1 {
		return nil, fmt.Errorf("got %d keys, want 1: %w", len(keys), ErrMalformed)
	}
	return keys[0], nil
}

func isArmored(data []byte) bool {
	return bytes.Contains(data[:min(len(data), 4096)], []byte("-----BEGIN PGP"))
}

// entities returns the go-crypto key ring of keys.
func entities(keys []*Key) openpgp.EntityList {
	el := make(openpgp.EntityList, 0, len(keys))
	for _, k := range keys {
		if k != nil {
			el = append(el, k.entity)
		}
	}
	return el
}

// byEntity finds the Key in keys that wraps e.
func byEntity(keys []*Key, e *openpgp.Entity) *Key {
	for _, k := range keys {
		if k != nil && k.entity == e {
			return k
		}
	}
	return &Key{entity: e}
}

// readAllLimited reads r to the end, failing beyond limit bytes.
func readAllLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: content larger than %d bytes", ErrUnsupported, limit)
	}
	return data, nil
}

// dearmor decodes one armored block.
func dearmor(data []byte) ([]byte, error) {
	block, err := armor.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: armor: %v", ErrMalformed, err)
	}
	raw, err := readAllLimited(block.Body, maxMessage)
	if err != nil {
		return nil, fmt.Errorf("%w: armor: %v", ErrMalformed, err)
	}
	return raw, nil
}
