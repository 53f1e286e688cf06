package openpgp

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// messageConfig is the go-crypto configuration for making messages at now:
// SHA-256 signatures, AES-256 SEIPD v1 (with MDC), no AEAD, no compression.
func messageConfig(now time.Time) *packet.Config {
	return &packet.Config{
		DefaultHash:            crypto.SHA256,
		DefaultCipher:          packet.CipherAES256,
		DefaultCompressionAlgo: packet.CompressionNone,
		AEADConfig:             nil,
		Time:                   func() time.Time { return now },
	}
}

// readConfig is the go-crypto configuration for reading messages at now.
func readConfig(now time.Time) *packet.Config {
	mdc := int64(maxMessage)
	return &packet.Config{
		Time:                       func() time.Time { return now },
		MaxDecompressedMessageSize: &mdc,
	}
}

// usableSigner checks that signer can sign at now.
func usableSigner(signer *Key, now time.Time) error {
	if signer == nil || !signer.HasSecret() {
		return fmt.Errorf("signing key: %w", ErrNoSecret)
	}
	if signer.Expired(now) {
		return fmt.Errorf("signing key %s (expires %s): %w", signer.Fingerprint(), signer.Expires().Format(time.DateOnly), ErrKeyExpired)
	}
	return nil
}

// Sign turns msg, a whole RFC 5322 message, into an RFC 3156
// multipart/signed message: the envelope fields stay outside, the
// Content-* fields and body become the first part (a leaf body that mail
// transport could alter is re-encoded as quoted-printable), and a detached
// SHA-256 signature over the CRLF form of that part becomes the second.
func Sign(msg []byte, signer *Key) ([]byte, error) {
	now := time.Now()
	if err := usableSigner(signer, now); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	e, err := parseEntity(canonical(msg))
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	inner, err := innerPart(e, true)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	var sig bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&sig, signer.entity, bytes.NewReader(inner), messageConfig(now)); err != nil {
		return nil, fmt.Errorf("sign with %s: %w", signer.Fingerprint(), err)
	}
	micalg, err := micalgOf(sig.Bytes())
	if err != nil {
		return nil, fmt.Errorf("sign with %s: %w", signer.Fingerprint(), err)
	}
	var sigPart bytes.Buffer
	sigPart.WriteString("Content-Type: application/pgp-signature; name=\"signature.asc\"\r\n")
	sigPart.WriteString("Content-Description: OpenPGP digital signature\r\n")
	sigPart.WriteString("Content-Disposition: attachment; filename=\"signature.asc\"\r\n\r\n")
	sigPart.Write(canonical(sig.Bytes()))
	outer, _ := splitHeader(e.header)
	params := map[string]string{"protocol": "application/pgp-signature", "micalg": micalg}
	return writeMultipart(outer, "multipart/signed", params, inner, sigPart.Bytes()), nil
}

// micalgOf names the hash of an armored signature as RFC 3156 §5 wants it
// in the micalg parameter.
func micalgOf(armoredSig []byte) (string, error) {
	raw, err := dearmor(armoredSig)
	if err != nil {
		return "", err
	}
	p, err := packet.Read(bytes.NewReader(raw))
	if err != nil {
		return "", err
	}
	sig, ok := p.(*packet.Signature)
	if !ok {
		return "", fmt.Errorf("signature output holds a %T", p)
	}
	names := map[crypto.Hash]string{crypto.SHA224: "pgp-sha224", crypto.SHA256: "pgp-sha256",
		crypto.SHA384: "pgp-sha384", crypto.SHA512: "pgp-sha512"}
	name, ok := names[sig.Hash]
	if !ok {
		return "", fmt.Errorf("%w: signature hash %v has no micalg name", ErrUnsupported, sig.Hash)
	}
	return name, nil
}

// Verified is a message whose signature Verify accepted.
type Verified struct {
	Message  []byte    // the signed content with the envelope fields restored
	Signer   *Key      // the key that made the signature
	SignedAt time.Time // the signature's creation time
}

// Verify checks an RFC 3156 multipart/signed message against keys at now:
// the signature must be good, made by one of keys, not expired, and every
// From address must be a user ID of the signer. Errors wrap ErrNotSigned,
// ErrMalformed, ErrBadSignature, ErrUnknownSigner, ErrKeyExpired or
// ErrFromMismatch.
func Verify(msg []byte, keys []*Key, now time.Time) (*Verified, error) {
	outer, parts, err := multipartOf(msg, "multipart/signed", "application/pgp-signature", ErrNotSigned)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	sig, err := partBody(parts[1], "application/pgp-signature")
	if err != nil {
		return nil, fmt.Errorf("verify: signature part: %w", err)
	}
	signer, sigTime, err := checkDetached(parts[0], sig, keys, now)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	full, err := joinMessage(outer, parts[0])
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	if err := checkFrom(full, outer, signer, now); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return &Verified{Message: full, Signer: signer, SignedAt: sigTime}, nil
}

// checkDetached verifies an armored or binary detached signature sig over
// signed.
func checkDetached(signed, sig []byte, keys []*Key, now time.Time) (*Key, time.Time, error) {
	sigData := sig
	if isArmored(sig) {
		raw, err := dearmor(sig)
		if err != nil {
			return nil, time.Time{}, err
		}
		sigData = raw
	}
	s, e, err := openpgp.VerifyDetachedSignature(entities(keys), bytes.NewReader(signed), bytes.NewReader(sigData), readConfig(now))
	if e == nil && err == nil {
		err = errors.New("no signer")
	}
	if err != nil {
		return nil, time.Time{}, signatureError(err)
	}
	return byEntity(keys, e), s.CreationTime, nil
}

// checkFrom checks that every From address, in the envelope and in the
// signed content, is an address of the signer.
func checkFrom(full []byte, outer [][]byte, signer *Key, now time.Time) error {
	var envelope []byte
	for _, f := range outer {
		envelope = append(envelope, f...)
	}
	for _, hdr := range [][]byte{envelope, full} {
		e, err := parseEntity(append(hdr, "\r\n"...))
		if err != nil {
			return err
		}
		if err := fromMatches(e.header, signer, now); err != nil {
			return err
		}
	}
	return nil
}

func fromMatches(h textproto.Header, signer *Key, now time.Time) error {
	mh := mail.Header{Header: message.Header{Header: h}}
	addrs, err := mh.AddressList("From")
	if err != nil {
		return fmt.Errorf("%w: from %q: %v", ErrFromMismatch, h.Get("From"), err)
	}
	if len(addrs) == 0 {
		return fmt.Errorf("%w: message has no from address", ErrFromMismatch)
	}
	for _, a := range addrs {
		if !signer.HasAddress(a.Address, now) {
			return fmt.Errorf("%w: from %s, signer %s has %q", ErrFromMismatch, a.Address, signer.Fingerprint(), signer.UserIDs())
		}
	}
	return nil
}
