// Package device owns a device's private state at rest: its signing and HPKE
// keys (generated here, never exported) and its verified copy of the account
// log. Everything is written atomically with mode 0600 under one directory,
// the device home.
//
// Use [OpenHome], then [Home.Keys] / [Home.CreateKeys] and [Home.Account] /
// [Home.SaveAccount].
package device

import (
	"crypto/hpke"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/endymail/endymail/internal/atomicfile"
	"github.com/endymail/endymail/mesh/proto"
)

// Errors callers branch on.
var (
	ErrNoDevice  = errors.New("this device has no keys yet")
	ErrNoAccount = errors.New("this device belongs to no account yet")
	ErrExists    = errors.New("already exists")
)

const (
	keysFile    = "device.json"
	accountFile = "account.json"
)

// Home is a device's state directory.
type Home struct{ dir string }

// DefaultDir is the device home for this user: $ENDYMAIL_HOME, else
// endymail/ under the user's configuration directory.
func DefaultDir(getenv func(string) string) (string, error) {
	if d := getenv("ENDYMAIL_HOME"); d != "" {
		return d, nil
	}
	cfg, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no configuration directory: %w (set ENDYMAIL_HOME)", err)
	}
	return filepath.Join(cfg, "endymail"), nil
}

// OpenHome opens (creating with mode 0700) the device home at dir.
func OpenHome(dir string) (*Home, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("device home: %w", err)
	}
	return &Home{dir: dir}, nil
}

// Dir is the home's path.
func (h *Home) Dir() string { return h.dir }

// Path joins elem to the home's path.
func (h *Home) Path(elem ...string) string { return filepath.Join(append([]string{h.dir}, elem...)...) }

// Keys is a device's key pair set.
type Keys struct {
	_    [0]func() // not comparable
	name string
	sign *proto.SigningKey
	kem  hpke.PrivateKey
}

type keysJSON struct {
	Name     string `json:"name"`
	SignSeed []byte `json:"sign_seed"`
	HPKE     []byte `json:"hpke"`
}

// CreateKeys generates this device's keys; ErrExists if it has some.
func (h *Home) CreateKeys(name string) (*Keys, error) {
	if err := proto.CheckName(name); err != nil {
		return nil, err
	}
	if _, err := os.Stat(h.Path(keysFile)); err == nil {
		return nil, fmt.Errorf("device keys: %w", ErrExists)
	}
	sign, err := proto.GenerateSigningKey()
	if err != nil {
		return nil, err
	}
	kem, err := proto.KEM().GenerateKey()
	if err != nil {
		return nil, err
	}
	k := &Keys{name: name, sign: sign, kem: kem}
	kb, err := kem.Bytes()
	if err != nil {
		return nil, err
	}
	data, _ := json.Marshal(keysJSON{Name: name, SignSeed: sign.Seed(), HPKE: kb})
	sealed, err := sealAtRest(data)
	clear(data)
	if err != nil {
		return nil, fmt.Errorf("protecting the device keys: %w", err)
	}
	if err := atomicfile.WriteFile(h.Path(keysFile), sealed, 0o600); err != nil {
		return nil, err
	}
	return k, nil
}

// Keys loads this device's keys; ErrNoDevice if it has none.
func (h *Home) Keys() (*Keys, error) {
	data, err := os.ReadFile(h.Path(keysFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoDevice
	}
	if err != nil {
		return nil, fmt.Errorf("device keys: %w", err)
	}
	if data, err = openAtRest(data); err != nil {
		return nil, fmt.Errorf("device keys %s: cannot unprotect: %w", h.Path(keysFile), err)
	}
	defer clear(data)
	var kj keysJSON
	if err := json.Unmarshal(data, &kj); err != nil {
		return nil, fmt.Errorf("device keys %s: corrupt: %w", h.Path(keysFile), err)
	}
	sign, err := proto.SigningKeyFromSeed(kj.SignSeed)
	if err != nil {
		return nil, fmt.Errorf("device keys %s: corrupt: %w", h.Path(keysFile), err)
	}
	kem, err := proto.KEM().NewPrivateKey(kj.HPKE)
	if err != nil {
		return nil, fmt.Errorf("device keys %s: corrupt HPKE key: %w", h.Path(keysFile), err)
	}
	return &Keys{name: kj.Name, sign: sign, kem: kem}, nil
}

// Name is the device's name.
func (k *Keys) Name() string { return k.name }

// Profile is the device's public half.
func (k *Keys) Profile() proto.DeviceProfile {
	return proto.DeviceProfile{Name: k.name, SignKey: k.sign.Public(), HPKEKey: k.kem.PublicKey().Bytes()}
}

// ID is the device fingerprint.
func (k *Keys) ID() string { return k.Profile().ID() }

// SignerID is the KeyID of the device's signing key.
func (k *Keys) SignerID() string { return k.sign.ID() }

// Sign signs payload with the device key under context.
func (k *Keys) Sign(context string, payload []byte) (proto.Envelope, error) {
	return proto.Sign(context, payload, k.sign)
}

// HPKE is the device's HPKE private key, for opening bundles.
func (k *Keys) HPKE() hpke.PrivateKey { return k.kem }

// Account is the device's view of its account: where the mesh is and the
// verified log. Pending holds a connection in progress.
type Account struct {
	Mesh    string           `json:"mesh"`
	Account string           `json:"account"`
	Handle  string           `json:"handle"`
	Log     []proto.Envelope `json:"log"`
	Pending *Pending         `json:"pending,omitempty"`
}

// Pending is a connection request this device posted and awaits.
type Pending struct {
	Request     string `json:"request"`
	ClientNonce []byte `json:"client_nonce"`
	ServerNonce []byte `json:"server_nonce"`
	Code        string `json:"code"`
}

// State replays the stored log.
func (a *Account) State() (*proto.State, error) {
	st, err := proto.Replay(a.Log)
	if err != nil {
		return nil, fmt.Errorf("stored account log: %w", err)
	}
	return st, nil
}

// Account loads the device's account; ErrNoAccount if none.
func (h *Home) Account() (*Account, error) {
	data, err := os.ReadFile(h.Path(accountFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoAccount
	}
	if err != nil {
		return nil, fmt.Errorf("account state: %w", err)
	}
	var a Account
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("account state %s: corrupt: %w", h.Path(accountFile), err)
	}
	return &a, nil
}

// SaveAccount writes the account state atomically.
func (h *Home) SaveAccount(a *Account) error {
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(h.Path(accountFile), data, 0o600)
}
