package proto

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/endymail/endymail/udf"
)

// Entry kinds.
const (
	KindGenesis      = "genesis"
	KindDeviceAdd    = "device-add"
	KindDeviceRemove = "device-remove"
	KindPublish      = "publish"
	KindUnpublish    = "unpublish"
	KindBundle       = "bundle"
)

// Entry is one record of an account's append-only log. Exactly one of the
// kind-specific fields is set, matching Kind.
type Entry struct {
	V       int       `json:"v"`
	Account string    `json:"account"`        // account ID (UDF of the root key)
	Seq     uint64    `json:"seq"`            // 0 for genesis
	Prev    string    `json:"prev,omitempty"` // EntryID of entry Seq-1; empty for genesis
	Time    time.Time `json:"time"`
	Signer  string    `json:"signer"` // KeyID of the key that signs this entry
	Kind    string    `json:"kind"`

	Genesis      *Genesis      `json:"genesis,omitempty"`
	DeviceAdd    *DeviceAdd    `json:"device_add,omitempty"`
	DeviceRemove *DeviceRemove `json:"device_remove,omitempty"`
	Publish      *Publish      `json:"publish,omitempty"`
	Unpublish    *Unpublish    `json:"unpublish,omitempty"`
	Bundle       *BundleRef    `json:"bundle,omitempty"`
}

// Genesis starts an account: its root key and recovery policy.
type Genesis struct {
	Handle      string         `json:"handle"`   // the address the account is found by
	RootKey     []byte         `json:"root_key"` // Ed25519 public key
	Recovery    RecoveryPolicy `json:"recovery"`
	RecoveryKey []byte         `json:"recovery_key,omitempty"` // HPKE public key derived from the root seed
}

// RecoveryPolicy says how the root seed was split.
type RecoveryPolicy struct {
	Threshold int `json:"threshold"`
	Shares    int `json:"shares"`
}

// DeviceAdd authorises a device; Admin makes it an admin device.
type DeviceAdd struct {
	Device  DeviceProfile `json:"device"`
	Admin   bool          `json:"admin"`
	Request *RequestRef   `json:"request,omitempty"` // the connection request it answers
}

// RequestRef binds an approval to one connection request.
type RequestRef struct {
	ID          string `json:"id"`
	ClientNonce []byte `json:"client_nonce"`
	ServerNonce []byte `json:"server_nonce"`
}

// DeviceRemove revokes a device.
type DeviceRemove struct {
	Device string `json:"device"` // DeviceID
}

// Publish makes an address's public keys available to senders.
type Publish struct {
	Address string   `json:"address"`
	OpenPGP []byte   `json:"openpgp,omitempty"` // binary transferable public key
	SMIME   [][]byte `json:"smime,omitempty"`   // certificate chain DER, leaf first
}

// Unpublish withdraws an address.
type Unpublish struct {
	Address string `json:"address"`
}

// BundleRef names one version of a sealed bundle by its digest.
type BundleRef struct {
	Name    string   `json:"name"`
	Version uint64   `json:"version"`
	Digest  string   `json:"digest"`  // BlobID of the sealed bundle
	Devices []string `json:"devices"` // DeviceIDs it is wrapped to
}

// EntryID names an entry by the UDF fingerprint of its exact payload bytes.
func EntryID(payload []byte) string { return udf.SHA512(TypeEntry, payload).String() }

// BlobID names a sealed bundle by the UDF fingerprint of its bytes.
func BlobID(blob []byte) string { return udf.SHA512(TypeBlob, blob).String() }

// Marshal encodes the entry as a payload to sign.
func (e *Entry) Marshal() []byte {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	return b
}

// ParseEntry decodes a payload strictly and checks its shape (not its
// signature or place in the log: that is [State.Apply]).
func ParseEntry(payload []byte) (*Entry, error) {
	if len(payload) > MaxEntrySize {
		return nil, fmt.Errorf("%w: entry is %d bytes, limit %d", ErrMalformed, len(payload), MaxEntrySize)
	}
	var e Entry
	if err := Unmarshal(payload, &e); err != nil {
		return nil, fmt.Errorf("%w: entry: %v", ErrMalformed, err)
	}
	if err := e.check(); err != nil {
		return nil, fmt.Errorf("%w: entry %d: %v", ErrMalformed, e.Seq, err)
	}
	return &e, nil
}

// ErrMalformed marks input that does not parse or has the wrong shape.
var ErrMalformed = errors.New("malformed")

func (e *Entry) check() error {
	if e.V != Version {
		return fmt.Errorf("protocol version %d, want %d", e.V, Version)
	}
	if e.Account == "" || e.Signer == "" || e.Time.IsZero() {
		return errors.New("missing account, signer or time")
	}
	set := 0
	for _, p := range []bool{e.Genesis != nil, e.DeviceAdd != nil, e.DeviceRemove != nil,
		e.Publish != nil, e.Unpublish != nil, e.Bundle != nil} {
		if p {
			set++
		}
	}
	if set != 1 {
		return fmt.Errorf("%d bodies set, want exactly one", set)
	}
	switch e.Kind {
	case KindGenesis:
		return e.Genesis.check()
	case KindDeviceAdd:
		return e.DeviceAdd.check()
	case KindDeviceRemove:
		return nonNil(e.DeviceRemove, func(d *DeviceRemove) bool { return d.Device != "" })
	case KindPublish:
		return e.Publish.check()
	case KindUnpublish:
		return nonNil(e.Unpublish, func(u *Unpublish) bool { return CheckAddress(u.Address) == nil })
	case KindBundle:
		return e.Bundle.check()
	}
	return fmt.Errorf("unknown kind %q", e.Kind)
}

func nonNil[T any](v *T, ok func(*T) bool) error {
	if v == nil || !ok(v) {
		return errors.New("body does not match kind")
	}
	return nil
}

func (g *Genesis) check() error {
	if g == nil {
		return errors.New("body does not match kind")
	}
	if err := CheckAddress(g.Handle); err != nil {
		return err
	}
	if len(g.RootKey) != ed25519.PublicKeySize {
		return errors.New("root key length")
	}
	if g.RecoveryKey != nil {
		if _, err := KEM().NewPublicKey(g.RecoveryKey); err != nil {
			return fmt.Errorf("recovery key: %v", err)
		}
	}
	r := g.Recovery
	if r.Threshold < 1 || r.Shares < r.Threshold || r.Shares > 15 {
		return fmt.Errorf("recovery policy %d-of-%d", r.Threshold, r.Shares)
	}
	return nil
}

func (d *DeviceAdd) check() error {
	if d == nil {
		return errors.New("body does not match kind")
	}
	return d.Device.Check()
}

func (p *Publish) check() error {
	if p == nil {
		return errors.New("body does not match kind")
	}
	if len(p.OpenPGP) == 0 && len(p.SMIME) == 0 {
		return errors.New("publish without keys")
	}
	return CheckAddress(p.Address)
}

func (b *BundleRef) check() error {
	if b == nil {
		return errors.New("body does not match kind")
	}
	if err := CheckBundleName(b.Name); err != nil {
		return err
	}
	if b.Version == 0 || b.Digest == "" || len(b.Devices) == 0 || len(b.Devices) > MaxBundleItems {
		return errors.New("bundle reference needs version, digest and devices")
	}
	return nil
}

// CheckAddress accepts a plain lower-case mail address (addr-spec).
func CheckAddress(a string) error {
	if a == "" || len(a) > MaxAddressLen || a != strings.ToLower(a) || strings.ContainsAny(a, " <>\"") {
		return fmt.Errorf("invalid mail address %q (want a plain lower-case address)", a)
	}
	m, err := mail.ParseAddress(a)
	if err != nil || m.Address != a || !strings.Contains(a, "@") {
		return fmt.Errorf("invalid mail address %q", a)
	}
	return nil
}

// NormalizeAddress lower-cases and checks a user-typed address.
func NormalizeAddress(a string) (string, error) {
	a = strings.ToLower(strings.TrimSpace(a))
	return a, CheckAddress(a)
}

// CheckName accepts device names: printable UTF-8, 1–64 bytes.
func CheckName(n string) error { return checkName(n, MaxNameLen) }

// CheckBundleName accepts bundle names: printable UTF-8, 1–300 bytes (room
// for "mail:" and any address).
func CheckBundleName(n string) error { return checkName(n, MaxBundleNameLen) }

func checkName(n string, max int) error {
	if n == "" || len(n) > max || !utf8.ValidString(n) {
		return fmt.Errorf("invalid name %q (1-%d bytes of UTF-8)", n, max)
	}
	for _, r := range n {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("invalid name %q: control character", n)
		}
	}
	return nil
}
