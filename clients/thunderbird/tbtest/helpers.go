package tbtest

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
)

// The chrome-context helper library, sent ahead of each helper call.
var (
	//go:embed helpers.js
	helpersJS string
	//go:embed send.js
	sendJS string
	//go:embed openpgp.js
	openpgpJS string
)

// call runs the helper function fn with args and decodes its result into v.
func (in *Instance) call(ctx context.Context, v any, fn string, args ...any) error {
	var b strings.Builder
	b.WriteString(helpersJS)
	b.WriteString(sendJS)
	b.WriteString(openpgpJS)
	b.WriteString(contactsJS)
	b.WriteString("\nreturn await " + fn + "(...arguments);\n")
	if err := in.EvalInto(ctx, v, b.String(), args...); err != nil {
		return fmt.Errorf("%s: %w", fn, err)
	}
	return nil
}

// Account describes a mail account for [Instance.AddMailAccount].
type Account struct {
	Address  string // the identity's e-mail address
	Name     string // the identity's full name
	IMAPPort int    // port of the (never contacted) IMAP server imap.invalid
	SMTPHost string
	SMTPPort int
}

// AccountKeys are the keys Thunderbird gave a new account's parts; the
// identity's prefs are mail.identity.<Identity>.*.
type AccountKeys struct {
	Account    string `json:"account"`
	Identity   string `json:"identity"`
	SMTPServer string `json:"smtpServer"`
}

// AddMailAccount creates an IMAP account with an SMTP server and one
// identity (doFcc off) through MailServices.
func (in *Instance) AddMailAccount(ctx context.Context, a Account) (AccountKeys, error) {
	var keys AccountKeys
	err := in.call(ctx, &keys, "addMailAccount", a.Address, a.Name, a.IMAPPort, a.SMTPHost, a.SMTPPort)
	return keys, err
}

// IdentityPrefs returns the prefs of the identity with address, by short
// name (e.g. "signing_cert_dbkey"), plus "key" (e.g. "id1"). Values are
// string, float64 or bool.
func (in *Instance) IdentityPrefs(ctx context.Context, address string) (map[string]any, error) {
	var prefs map[string]any
	err := in.call(ctx, &prefs, "identityPrefs", address)
	return prefs, err
}

// SetIdentityAttributes sets attributes of the identity with address
// through nsIMsgIdentity: strings with setUnicharAttribute, ints with
// setIntAttribute, bools with setBoolAttribute. It returns the resulting
// prefs as [Instance.IdentityPrefs] does.
func (in *Instance) SetIdentityAttributes(ctx context.Context, address string, attrs map[string]any) (map[string]any, error) {
	var prefs map[string]any
	err := in.call(ctx, &prefs, "setIdentityAttributes", address, attrs)
	return prefs, err
}

// CertStatus is what Thunderbird's NSS says about a certificate.
type CertStatus struct {
	Found   bool   `json:"found"`
	DBKey   string `json:"dbKey"`
	Subject string `json:"subject"`
	Email   string `json:"email"`
	Serial  string `json:"serial"`
	// Signer and Recipient are the PR error codes of asyncVerifyCertAtTime
	// for verifyUsageEmailSigner and verifyUsageEmailRecipient (0 = valid).
	Signer         int    `json:"signer"`
	SignerError    string `json:"signerError"`
	Recipient      int    `json:"recipient"`
	RecipientError string `json:"recipientError"`
}

// CertByDBKey looks a certificate up with nsIX509CertDB.findCertByDBKey
// (as Thunderbird does for signing_cert_dbkey) and verifies it, without
// network access, for e-mail signing and encryption.
func (in *Instance) CertByDBKey(ctx context.Context, dbkey string) (CertStatus, error) {
	var st CertStatus
	err := in.call(ctx, &st, "certByDBKey", dbkey)
	return st, err
}

// Tech selects the end-to-end encryption technology of a [Message].
type Tech string

// Technologies for [Message.Tech].
const (
	SMIME   Tech = "smime"
	OpenPGP Tech = "openpgp"
)

// Message is a message for [Instance.SendMessage].
type Message struct {
	From    string   `json:"from"` // address of an identity in the profile
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Body    string   `json:"body"`
	Sign    bool     `json:"sign"`
	Encrypt bool     `json:"encrypt"`
	Tech    Tech     `json:"tech"` // required when Sign or Encrypt
	// Auto ignores Sign, Encrypt and Tech and uses what a new compose
	// window would select from the identity's settings (signing_cert_name,
	// encryption_cert_name, openpgp_key_id, e2etechpref, encryptionpolicy,
	// sign_mail; and protect_subject, which hides an OpenPGP-encrypted
	// message's subject as "..."), and then, with mail.e2ee.auto_enable on,
	// turns encryption on as the compose window's checkEncryptionState does
	// when every recipient has a usable S/MIME certificate or an accepted
	// OpenPGP key (selecting the technology that can, when only one can).
	Auto bool `json:"auto"`
}

// Sent describes a message Thunderbird sent: its Message-ID and the
// protection it applied.
type Sent struct {
	MessageID string `json:"messageId"`
	Sign      bool   `json:"sign"`
	Encrypt   bool   `json:"encrypt"`
	Tech      Tech   `json:"tech"`
}

// SendMessage sends m through Thunderbird's own send path
// (@mozilla.org/messengercompose/send;1 createAndSendMessage) to the
// identity's SMTP server, with S/MIME or OpenPGP set up as the compose
// window does. It returns once the send listener reports success. A
// failure Thunderbird shows as an alert is an error wrapping
// [ErrModalDialog].
func (in *Instance) SendMessage(ctx context.Context, m Message) (Sent, error) {
	var sent Sent
	err := in.call(ctx, &sent, "sendMessage", m)
	return sent, err
}

// OpenPGPKeyStatus is what Thunderbird's OpenPGP code says about a key as
// the sender's own.
type OpenPGPKeyStatus struct {
	Found           bool     `json:"found"`
	Fingerprint     string   `json:"fingerprint"`
	UserIDs         []string `json:"userIds"`
	SecretAvailable bool     `json:"secretAvailable"`
	// Personal is sqliteDb isAcceptedAsPersonalKey.
	Personal bool `json:"personal"`
	// ErrorMsg is determineOwnKeyUsability's complaint for signing and
	// encrypting; empty when the key is usable.
	ErrorMsg string `json:"errorMsg"`
}

// OwnOpenPGPKeyUsable checks keyID (16 hex digits) as the sender's own
// key with keyRing getKeyById, sqliteDb isAcceptedAsPersonalKey and
// encryption determineOwnKeyUsability.
func (in *Instance) OwnOpenPGPKeyUsable(ctx context.Context, keyID string) (OpenPGPKeyStatus, error) {
	var st OpenPGPKeyStatus
	err := in.call(ctx, &st, "ownOpenPGPKeyUsable", keyID)
	return st, err
}

// ImportOpenPGPSecretKey imports an armored secret key through
// RNP.importSecKeyBlockImpl (unlocking it with passphrase; Thunderbird
// re-protects it with its automatic passphrase) and accepts it as a
// personal key. It returns the imported fingerprints.
func (in *Instance) ImportOpenPGPSecretKey(ctx context.Context, armored, passphrase string) ([]string, error) {
	var fprs []string
	err := in.call(ctx, &fprs, "importOpenPGPSecretKey", armored, passphrase)
	return fprs, err
}

// ImportOpenPGPPublicKey imports an armored public key through
// RNP.importPubkeyBlockAutoAcceptImpl with acceptance "verified" and
// returns the imported fingerprints.
func (in *Instance) ImportOpenPGPPublicKey(ctx context.Context, armored string) ([]string, error) {
	var fprs []string
	err := in.call(ctx, &fprs, "importOpenPGPPublicKey", armored)
	return fprs, err
}
