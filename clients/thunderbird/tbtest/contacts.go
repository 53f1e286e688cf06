package tbtest

import (
	"context"
	_ "embed"
)

//go:embed contacts.js
var contactsJS string

// AddContact adds a card with address and name to the profile's personal
// address book (abook.sqlite) through MailServices.ab, the way the address
// book window does. It returns the card's UID.
func (in *Instance) AddContact(ctx context.Context, address, name string) (string, error) {
	var uid string
	err := in.call(ctx, &uid, "addContact", address, name)
	return uid, err
}

// PeerKeys is what Thunderbird knows for encrypting to one correspondent.
type PeerKeys struct {
	// OpenPGPFound: keyRing getKeyById found the fingerprint asked for.
	OpenPGPFound    bool `json:"openpgpFound"`
	SecretAvailable bool `json:"secretAvailable"`
	// Acceptance is sqliteDb getAcceptance's fingerprint decision
	// ("unverified", "verified", "rejected", …; "" when none), and
	// EmailDecided whether it holds for the address.
	Acceptance   string `json:"acceptance"`
	EmailDecided bool   `json:"emailDecided"`
	// Readiness lists keyRing getEncryptionKeyMeta's verdict on each key
	// for the address ("accepted" lets the compose window encrypt).
	Readiness []string `json:"readiness"`
	// SMIMEFound: asyncFindCertByEmailAddr found a valid certificate.
	SMIMEFound  bool   `json:"smimeFound"`
	SMIMEDBKey  string `json:"smimeDBKey"`
	SMIMESHA256 string `json:"smimeSHA256"` // colon-separated upper-case hex
}

// PeerKeys asks Thunderbird's OpenPGP and S/MIME code about address and
// the OpenPGP key fpr (40 hex digits; "" to skip getKeyById).
func (in *Instance) PeerKeys(ctx context.Context, address, fpr string) (PeerKeys, error) {
	var pk PeerKeys
	err := in.call(ctx, &pk, "peerKeys", address, fpr)
	return pk, err
}
