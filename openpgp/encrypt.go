package openpgp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// usableRecipients checks that every key in to can receive at now.
func usableRecipients(to []*Key, now time.Time) (openpgp.EntityList, error) {
	if len(to) == 0 {
		return nil, errors.New("no recipient keys")
	}
	el := make(openpgp.EntityList, 0, len(to))
	for _, k := range to {
		if k == nil {
			return nil, errors.New("nil recipient key")
		}
		if k.Expired(now) {
			return nil, fmt.Errorf("recipient key %s (expires %s): %w", k.Fingerprint(), k.Expires().Format(time.DateOnly), ErrKeyExpired)
		}
		if _, ok := k.entity.EncryptionKey(now); !ok {
			return nil, fmt.Errorf("%w: recipient key %s has no valid encryption subkey", ErrUnsupported, k.Fingerprint())
		}
		el = append(el, k.entity)
	}
	return el, nil
}

// Encrypt turns msg, a whole RFC 5322 message, into an RFC 3156
// multipart/encrypted message to every key in to (add the sender's own key
// to read it later). The Content-* fields and body are encrypted as one
// MIME entity, signed inside the encryption (RFC 3156 §6.2) when signer is
// not nil; SEIPD v1 with MDC, AES-256 when every recipient accepts it. The
// envelope fields (From, To, Subject, Date, Message-ID, ...) stay outside.
func Encrypt(msg []byte, to []*Key, signer *Key) ([]byte, error) {
	now := time.Now()
	el, err := usableRecipients(to, now)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	var signEntity *openpgp.Entity
	if signer != nil {
		if err := usableSigner(signer, now); err != nil {
			return nil, fmt.Errorf("encrypt: %w", err)
		}
		signEntity = signer.entity
	}
	e, err := parseEntity(canonical(msg))
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	inner, err := innerPart(e, false)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	ct, err := encryptArmored(inner, el, signEntity, now)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	version := "Content-Type: application/pgp-encrypted\r\n" +
		"Content-Description: PGP/MIME version identification\r\n\r\nVersion: 1\r\n"
	data := "Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n" +
		"Content-Description: OpenPGP encrypted message\r\n" +
		"Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n"
	outer, _ := splitHeader(e.header)
	params := map[string]string{"protocol": "application/pgp-encrypted"}
	return writeMultipart(outer, "multipart/encrypted", params, []byte(version), append([]byte(data), ct...)), nil
}

func encryptArmored(plain []byte, to openpgp.EntityList, signer *openpgp.Entity, now time.Time) ([]byte, error) {
	var buf bytes.Buffer
	aw, err := armor.Encode(&buf, "PGP MESSAGE", nil)
	if err != nil {
		return nil, err
	}
	pw, err := openpgp.Encrypt(aw, to, signer, &openpgp.FileHints{IsBinary: true}, messageConfig(now))
	if err != nil {
		return nil, err
	}
	if _, err := pw.Write(plain); err != nil {
		return nil, err
	}
	if err := pw.Close(); err != nil {
		return nil, err
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	return canonical(buf.Bytes()), nil
}

// Decrypted is the result of Decrypt.
type Decrypted struct {
	// Message is the decrypted content with the envelope fields restored.
	Message []byte
	// Signed reports whether the content carried a signature, either
	// inside the encryption or as an inner multipart/signed.
	Signed bool
	// Signer is the key whose signature was accepted; nil when the content
	// is unsigned or SignatureErr is set.
	Signer   *Key
	SignedAt time.Time
	// SignatureErr says why a present signature was not accepted; it wraps
	// ErrBadSignature, ErrUnknownSigner, ErrKeyExpired or ErrFromMismatch.
	SignatureErr error
}

// Decrypt is DecryptAt at the current time.
func Decrypt(msg []byte, keys []*Key) (*Decrypted, error) {
	return DecryptAt(msg, keys, time.Now())
}

// DecryptAt decrypts an RFC 3156 multipart/encrypted message with the
// secret keys among keys and checks any signature against all of keys at
// now. Decryption errors wrap ErrUnsupported, ErrMalformed, ErrNoKey,
// ErrNoMDC or ErrCorrupt; no content is returned with them. Signature
// problems do not fail decryption: they are in Decrypted.SignatureErr.
func DecryptAt(msg []byte, keys []*Key, now time.Time) (*Decrypted, error) {
	outer, parts, err := multipartOf(msg, "multipart/encrypted", "application/pgp-encrypted", ErrUnsupported)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	if _, err := partBody(parts[0], "application/pgp-encrypted"); err != nil {
		return nil, fmt.Errorf("decrypt: version part: %w", err)
	}
	data, err := partBody(parts[1], "application/octet-stream")
	if err != nil {
		return nil, fmt.Errorf("decrypt: encrypted part: %w", err)
	}
	if isArmored(data) {
		if data, err = dearmor(data); err != nil {
			return nil, fmt.Errorf("decrypt: %w", err)
		}
	}
	el := entities(keys)
	if err := checkRecipients(data, el); err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	md, err := openpgp.ReadMessage(bytes.NewReader(data), el, nil, readConfig(now))
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", packetError(err))
	}
	plain, err := readAllLimited(md.UnverifiedBody, maxMessage)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", packetError(err))
	}
	full, err := joinMessage(outer, canonical(plain))
	if err != nil {
		return nil, fmt.Errorf("decrypt: decrypted content: %w", err)
	}
	d := &Decrypted{Message: full, Signed: md.IsSigned}
	switch {
	case md.IsSigned && md.SignedBy == nil:
		d.SignatureErr = fmt.Errorf("%w: key ID %016X", ErrUnknownSigner, md.SignedByKeyId)
	case md.IsSigned && md.SignatureError != nil:
		d.SignatureErr = signatureError(md.SignatureError)
	case md.IsSigned:
		signer := byEntity(keys, md.SignedBy.Entity)
		if d.SignatureErr = checkFrom(full, outer, signer, now); d.SignatureErr == nil {
			d.Signer, d.SignedAt = signer, md.Signature.CreationTime
		}
	default:
		d.verifyInner(keys, now)
	}
	return d, nil
}

// verifyInner checks a multipart/signed message inside the encryption (the
// RFC 3156 §6.1 form some clients send).
func (d *Decrypted) verifyInner(keys []*Key, now time.Time) {
	v, err := Verify(d.Message, keys, now)
	switch {
	case errors.Is(err, ErrNotSigned):
		return
	case err != nil:
		d.Signed, d.SignatureErr = true, err
	default:
		d.Signed, d.Message, d.Signer, d.SignedAt = true, v.Message, v.Signer, v.SignedAt
	}
}

// checkRecipients reads the session key packets in front of the encrypted
// data and fails unless one is for a secret key in el.
func checkRecipients(data []byte, el openpgp.EntityList) error {
	var ids []string
	r := packet.NewReader(bytes.NewReader(data))
	for {
		p, err := r.Next()
		if err == io.EOF {
			return fmt.Errorf("%w: no encrypted data", ErrMalformed)
		}
		if err != nil {
			return packetError(err)
		}
		switch p := p.(type) {
		case *packet.EncryptedKey:
			if p.KeyId == 0 {
				ids = append(ids, "anonymous")
				if len(el.DecryptionKeys()) > 0 {
					return nil
				}
				continue
			}
			ids = append(ids, fmt.Sprintf("%016X", p.KeyId))
			for _, k := range el.KeysById(p.KeyId) {
				if k.PrivateKey != nil {
					return nil
				}
			}
		case *packet.SymmetricKeyEncrypted:
			ids = append(ids, "passphrase")
		case *packet.SymmetricallyEncrypted, *packet.AEADEncrypted:
			if len(ids) == 0 {
				return fmt.Errorf("%w: encrypted data without session key packets", ErrMalformed)
			}
			return fmt.Errorf("%w: encrypted to %s", ErrNoKey, strings.Join(ids, ", "))
		default:
			return fmt.Errorf("%w: content is not encrypted (%T)", ErrUnsupported, p)
		}
	}
}
