package proto

import (
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/sha512"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/endymail/endymail/udf"
)

// KEM is the HPKE KEM every device key uses (DESIGN §1).
func KEM() hpke.KEM { return hpke.MLKEM768X25519() }

// DeviceProfile is the public half of a device: its name and keys.
type DeviceProfile struct {
	Name    string `json:"name"`
	SignKey []byte `json:"sign_key"` // Ed25519 public key
	HPKEKey []byte `json:"hpke_key"` // HPKE (ML-KEM-768+X25519) public key
}

// ID is the device fingerprint: the UDF of both public keys, so swapping
// either changes it.
func (d DeviceProfile) ID() string {
	data := make([]byte, 0, len(d.SignKey)+len(d.HPKEKey))
	data = append(append(data, d.SignKey...), d.HPKEKey...)
	return udf.SHA512(TypeDevice, data).String()
}

// Check verifies the profile's shape and that its HPKE key parses.
func (d DeviceProfile) Check() error {
	if err := CheckName(d.Name); err != nil {
		return fmt.Errorf("device: %w", err)
	}
	if len(d.SignKey) != ed25519.PublicKeySize {
		return errors.New("device: signing key length")
	}
	if _, err := KEM().NewPublicKey(d.HPKEKey); err != nil {
		return fmt.Errorf("device: HPKE key: %v", err)
	}
	return nil
}

// ConnectRequest is what a new device signs and posts to join an account.
type ConnectRequest struct {
	V           int           `json:"v"`
	Account     string        `json:"account"`
	Device      DeviceProfile `json:"device"`
	ClientNonce []byte        `json:"client_nonce"` // 32 random bytes
	Time        time.Time     `json:"time"`
}

// ParseConnectRequest decodes and checks a signed request envelope: the shape,
// and that the device's own key signed it.
func ParseConnectRequest(env Envelope) (*ConnectRequest, error) {
	var r ConnectRequest
	if err := Unmarshal(env.Payload, &r); err != nil {
		return nil, fmt.Errorf("%w: connection request: %v", ErrMalformed, err)
	}
	if r.V != Version || r.Account == "" || len(r.ClientNonce) != 32 || r.Time.IsZero() {
		return nil, fmt.Errorf("%w: connection request fields", ErrMalformed)
	}
	if err := r.Device.Check(); err != nil {
		return nil, fmt.Errorf("%w: connection request: %v", ErrMalformed, err)
	}
	if err := env.Verify(ContextConnect, r.Device.SignKey); err != nil {
		return nil, fmt.Errorf("connection request: %w", err)
	}
	return &r, nil
}

// Answer is an admin's signed answer to a connection request (a denial; an
// approval is the device-add entry in the log itself).
type Answer struct {
	V           int       `json:"v"`
	Account     string    `json:"account"`
	Request     string    `json:"request"`
	ClientNonce []byte    `json:"client_nonce"`
	Approve     bool      `json:"approve"`
	Signer      string    `json:"signer"`
	Time        time.Time `json:"time"`
}

// ParseAnswer decodes an answer payload strictly.
func ParseAnswer(payload []byte) (*Answer, error) {
	var a Answer
	if err := Unmarshal(payload, &a); err != nil {
		return nil, fmt.Errorf("%w: answer: %v", ErrMalformed, err)
	}
	if a.V != Version || a.Account == "" || a.Request == "" || a.Signer == "" {
		return nil, fmt.Errorf("%w: answer fields", ErrMalformed)
	}
	return &a, nil
}

// WitnessBits is the strength of the witness code: 20 Base32 characters.
const WitnessBits = 100

// Witness is the code both screens show during device connection. It binds
// the account, the device's keys and both nonces: a service that swaps any
// of them changes the code. Shown as five groups of four Base32 characters.
func Witness(account, device string, clientNonce, serverNonce []byte) string {
	h := sha512.Sum512(lengthPrefixed("endymail/v1/witness", account, device, string(clientNonce), string(serverNonce)))
	s := base32.StdEncoding.EncodeToString(h[:])[:WitnessBits/5]
	return group4(s)
}

// NormalizeCode turns what a user typed into the canonical code form:
// upper case, dashes every four characters, ignoring spaces and dashes.
func NormalizeCode(s string) string {
	s = strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(s))
	return group4(s)
}

func group4(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}
