//lint:file-ignore SA1019 RSA PKCS#1 v1.5 key transport is what S/MIME peers use (DESIGN §6); decryption uses implicit rejection

package smime

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/emersion/go-message/textproto"
	"github.com/smallstep/pkcs7"
)

// pkcs7Globals serialises use of smallstep/pkcs7's package-level encryption
// settings (ContentEncryptionAlgorithm, KeyEncryptionAlgorithm), which this
// package sets on every call instead of trusting their defaults.
var pkcs7Globals sync.Mutex

// Encrypt returns msg as an application/pkcs7-mime enveloped-data message
// (RFC 8551 section 3.3) readable by each recipient: AES-256-CBC content
// encryption, RSA PKCS#1 v1.5 key transport, recipients named by issuer and
// serial number. The Content-* fields and body are encrypted; the message
// fields stay outside. Include the sender's own certificate in recipients to
// keep the sent copy readable.
//
// Recipients must hold RSA keys whose key usage (if present) allows key
// encipherment; an ECDSA certificate is [ErrUnsupported] because
// smallstep/pkcs7 has no ECDH key agreement.
func Encrypt(msg []byte, recipients []*x509.Certificate) ([]byte, error) {
	outer, entity, err := innerEntity(msg)
	if err != nil {
		return nil, fmt.Errorf("smime: encrypt: %w", err)
	}
	return envelope(outer, entity, recipients)
}

// SignAndEncrypt signs msg with id ([Sign]) and encrypts the signed message
// to recipients ([Encrypt]), the order RFC 8551 section 3.7 and mail clients
// use.
func SignAndEncrypt(msg []byte, id *Identity, recipients []*x509.Certificate) ([]byte, error) {
	signed, err := Sign(msg, id)
	if err != nil {
		return nil, err
	}
	return Encrypt(signed, recipients)
}

// envelope encrypts entity and writes it under the outer header.
func envelope(outer textproto.Header, entity []byte, recipients []*x509.Certificate) ([]byte, error) {
	if len(recipients) == 0 {
		return nil, errors.New("smime: encrypt: no recipients")
	}
	for _, c := range recipients {
		if err := checkRecipient(c); err != nil {
			return nil, fmt.Errorf("smime: encrypt: %w", err)
		}
	}
	der, err := encryptCMS(entity, recipients)
	if err != nil {
		return nil, fmt.Errorf("smime: encrypt: %w", err)
	}
	var b bytes.Buffer
	writeWrapped(&b, der)
	return wrapEntity(outer, []field{
		{"Content-Type", `application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"`},
		{"Content-Transfer-Encoding", "base64"},
		{"Content-Disposition", `attachment; filename="smime.p7m"`},
		{"Content-Description", "S/MIME Encrypted Message"},
	}, b.Bytes())
}

// checkRecipient refuses certificates the library cannot encrypt to.
func checkRecipient(c *x509.Certificate) error {
	if _, ok := c.PublicKey.(*rsa.PublicKey); !ok {
		return fmt.Errorf("%w: recipient %q has a %s key; only RSA key transport is implemented (no ECDH)",
			ErrUnsupported, c.Subject.CommonName, c.PublicKeyAlgorithm)
	}
	if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageKeyEncipherment == 0 {
		return fmt.Errorf("%w: recipient %q: key usage lacks keyEncipherment", ErrNoEmailProtection, c.Subject.CommonName)
	}
	if len(c.ExtKeyUsage)+len(c.UnknownExtKeyUsage) > 0 && !slices.ContainsFunc(c.ExtKeyUsage, func(u x509.ExtKeyUsage) bool {
		return u == x509.ExtKeyUsageEmailProtection || u == x509.ExtKeyUsageAny
	}) {
		return fmt.Errorf("%w: recipient %q: extended key usage lacks emailProtection", ErrNoEmailProtection, c.Subject.CommonName)
	}
	return nil
}

// encryptCMS runs pkcs7.Encrypt with AES-256-CBC and RSA PKCS#1 v1.5.
func encryptCMS(content []byte, recipients []*x509.Certificate) ([]byte, error) {
	pkcs7Globals.Lock()
	defer pkcs7Globals.Unlock()
	pkcs7.ContentEncryptionAlgorithm = pkcs7.EncryptionAlgorithmAES256CBC
	pkcs7.KeyEncryptionAlgorithm = pkcs7.OIDEncryptionAlgorithmRSA
	return pkcs7.Encrypt(content, recipients)
}

// Decrypt decrypts an application/pkcs7-mime enveloped-data message for id
// and returns the whole message: the outer message fields followed by the
// decrypted entity (which may itself be signed; pass it to [Verify]).
//
// Errors: [ErrNotEncrypted] for other messages, [ErrNotRecipient] when the
// message has no entry for id's certificate, [ErrUnsupported] for forms
// smallstep/pkcs7 cannot decrypt (ECDH, key-identifier recipients,
// AuthEnvelopedData, unknown ciphers), [ErrDecrypt] when decryption itself
// fails, [ErrMalformed] for broken input.
func Decrypt(msg []byte, id *Identity) ([]byte, error) {
	h, body, err := readMessage(msg)
	if err != nil {
		return nil, fmt.Errorf("smime: decrypt: %w", err)
	}
	outer, _ := splitHeader(h)
	t, params, der, err := decodeEntity(h, body)
	if err != nil {
		return nil, fmt.Errorf("smime: decrypt: %w", err)
	}
	st := strings.ToLower(params["smime-type"])
	if !isPKCS7Mime(t) || (st != "" && st != "enveloped-data" && st != "authenveloped-data") {
		return nil, fmt.Errorf("smime: decrypt: %w: content type %s smime-type %q", ErrNotEncrypted, t, st)
	}
	plain, err := decryptCMS(der, id)
	if err != nil {
		return nil, fmt.Errorf("smime: decrypt: %w", err)
	}
	return joinMessage(outer, canonicalize(plain))
}

// decryptCMS checks der and decrypts it with id's key.
func decryptCMS(der []byte, id *Identity) ([]byte, error) {
	keyLen, err := checkEnveloped(der, id.Cert)
	if err != nil {
		return nil, err
	}
	key, ok := id.Key.(crypto.Decrypter)
	if !ok || id.Cert.PublicKeyAlgorithm != x509.RSA {
		return nil, fmt.Errorf("%w: decrypting with a %s key", ErrUnsupported, id.Cert.PublicKeyAlgorithm)
	}
	p7, err := parsePKCS7(der)
	if err != nil {
		return nil, err
	}
	plain, err := decryptPKCS7(p7, id, sessionKeyDecrypter{key, keyLen})
	switch {
	case errors.Is(err, pkcs7.ErrUnsupportedAlgorithm), errors.Is(err, pkcs7.ErrUnsupportedAsymmetricEncryptionAlgorithm):
		return nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
	case errors.Is(err, ErrDecrypt):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
	}
	return plain, nil
}

// sessionKeyDecrypter makes RSA PKCS#1 v1.5 key transport use crypto/rsa's
// implicit rejection (PKCS1v15DecryptOptions.SessionKeyLen, RFC 3218
// section 2.3.2): a malformed encrypted key yields a random content key
// instead of a distinct padding error, so the outcome does not tell an
// attacker whether the RSA padding was valid.
type sessionKeyDecrypter struct {
	crypto.Decrypter
	keyLen int
}

var _ crypto.Decrypter = sessionKeyDecrypter{}

// RSA PKCS#1 v1.5 key transport is what S/MIME peers use (DESIGN §6);
// implicit rejection through SessionKeyLen keeps it free of a padding oracle.
func (d sessionKeyDecrypter) Decrypt(r io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	if _, ok := opts.(*rsa.PKCS1v15DecryptOptions); ok && d.keyLen > 0 {
		opts = &rsa.PKCS1v15DecryptOptions{SessionKeyLen: d.keyLen}
	}
	return d.Decrypter.Decrypt(r, msg, opts)
}
