package smime

import (
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	"github.com/smallstep/pkcs7"
)

// Verified is the result of a successful [Verify].
type Verified struct {
	// Signer is the signing certificate; Chains are its verified paths to
	// a root in the pool given to Verify.
	Signer *x509.Certificate
	Chains [][]*x509.Certificate
	// From is the From address that matched the signer certificate.
	From string
	// SigningTime is the signer's claimed signing time, zero if absent.
	SigningTime time.Time
	// Message is the signed content as a whole message: the outer message
	// fields followed by the signed entity. For an opaque signed-data
	// message this is the only way to read the content.
	Message []byte
}

// Verify checks the S/MIME signature of msg: a multipart/signed message with
// a detached signature, or an opaque application/pkcs7-mime signed-data
// message. It checks the signature over the content, that the signer
// certificate chains to roots at now and allows email protection
// (extended key usage emailProtection, key usage digitalSignature or
// nonRepudiation if present), and that the message's From address is one of
// the certificate's rfc822Name subjectAltNames.
//
// Errors: [ErrNotSigned], [ErrBadSignature], [ErrCertExpired],
// [ErrUntrusted], [ErrNoEmailProtection], [ErrFromMismatch],
// [ErrUnsupported] (key-identifier signers, several signers),
// [ErrMalformed].
//
// A nil roots means the system roots (as for crypto/x509); pass a pool with
// the account's personal CAs (and any public S/MIME roots) instead.
func Verify(msg []byte, roots *x509.CertPool, now time.Time) (*Verified, error) {
	h, body, err := readMessage(msg)
	if err != nil {
		return nil, fmt.Errorf("smime: verify: %w", err)
	}
	outer, _ := splitHeader(h)
	der, content, err := signedParts(h, body)
	if err != nil {
		return nil, fmt.Errorf("smime: verify: %w", err)
	}
	v, err := verifyCMS(der, content, roots, now)
	if err != nil {
		return nil, fmt.Errorf("smime: verify: %w", err)
	}
	if v.From, err = matchFrom(outer, v.Signer); err != nil {
		return nil, fmt.Errorf("smime: verify: %w", err)
	}
	if v.Message, err = joinMessage(outer, canonicalize(v.Message)); err != nil {
		return nil, fmt.Errorf("smime: verify: %w", err)
	}
	return v, nil
}

// signedParts returns the SignedData and, for a detached signature, the
// signed content (nil for opaque signed-data).
func signedParts(h textproto.Header, body []byte) (der, content []byte, err error) {
	t, params, data, err := decodeEntity(h, body)
	if err != nil {
		return nil, nil, err
	}
	switch st := strings.ToLower(params["smime-type"]); {
	case isPKCS7Mime(t) && (st == "signed-data" || st == ""):
		return data, nil, nil
	case t != "multipart/signed":
		return nil, nil, fmt.Errorf("%w: content type %s", ErrNotSigned, t)
	case !isPKCS7Signature(strings.ToLower(params["protocol"])):
		return nil, nil, fmt.Errorf("%w: multipart/signed protocol %q", ErrUnsupported, params["protocol"])
	}
	parts, err := splitMultipart(body, params["boundary"])
	if err != nil {
		return nil, nil, err
	}
	if len(parts) != 2 {
		return nil, nil, fmt.Errorf("%w: multipart/signed with %d parts, want 2", ErrMalformed, len(parts))
	}
	ph, pbody, err := readMessage(parts[1])
	if err != nil {
		return nil, nil, err
	}
	st, _, sig, err := decodeEntity(ph, pbody)
	if err != nil {
		return nil, nil, err
	}
	if !isPKCS7Signature(st) {
		return nil, nil, fmt.Errorf("%w: signature part of type %s", ErrMalformed, st)
	}
	return sig, parts[0], nil
}

// verifyCMS checks a SignedData (with detached content if not nil).
func verifyCMS(der, content []byte, roots *x509.CertPool, now time.Time) (*Verified, error) {
	n, err := checkSigned(der)
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, fmt.Errorf("%w: %d signers, want 1", ErrUnsupported, n)
	}
	p7, err := parsePKCS7(der)
	if err != nil {
		return nil, err
	}
	if content != nil {
		if len(p7.Content) != 0 {
			return nil, fmt.Errorf("%w: detached signature that also carries content", ErrMalformed)
		}
		p7.Content = content
	}
	signer := p7.GetOnlySigner()
	if signer == nil {
		return nil, fmt.Errorf("%w: signer certificate not in message", ErrMalformed)
	}
	chains, err := checkSigner(signer, p7.Certificates, roots, now)
	if err != nil {
		return nil, err
	}
	if err := checkSignature(p7); err != nil {
		return nil, err
	}
	v := &Verified{Signer: signer, Chains: chains, Message: p7.Content}
	// Absent or unreadable signing time leaves the zero value.
	_ = p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &v.SigningTime)
	return v, nil
}

// checkSignature verifies the signature value and content digest.
func checkSignature(p7 *pkcs7.PKCS7) error {
	err := verifyPKCS7(p7)
	var timeErr *pkcs7.SigningTimeNotValidError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &timeErr):
		return fmt.Errorf("%w: %w", ErrCertExpired, err)
	case errors.Is(err, pkcs7.ErrUnsupportedAlgorithm):
		return fmt.Errorf("%w: %w", ErrUnsupported, err)
	case errors.Is(err, ErrBadSignature):
		return err
	}
	return fmt.Errorf("%w: %w", ErrBadSignature, err)
}

// checkSigner verifies the signer certificate's validity, usage and chain.
func checkSigner(c *x509.Certificate, pool []*x509.Certificate, roots *x509.CertPool, now time.Time) ([][]*x509.Certificate, error) {
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		return nil, fmt.Errorf("%w: signer certificate valid %s to %s, checked at %s", ErrCertExpired,
			c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	if c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return nil, fmt.Errorf("%w: signer key usage lacks digitalSignature", ErrNoEmailProtection)
	}
	inter := x509.NewCertPool()
	for _, p := range pool {
		inter.AddCert(p)
	}
	chains, err := c.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	})
	var invalid x509.CertificateInvalidError
	switch {
	case err == nil:
		return chains, nil
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return nil, fmt.Errorf("%w: %w", ErrCertExpired, err)
	case errors.As(err, &invalid) && invalid.Reason == x509.IncompatibleUsage:
		return nil, fmt.Errorf("%w: %w", ErrNoEmailProtection, err)
	}
	return nil, fmt.Errorf("%w: %w", ErrUntrusted, err)
}

// matchFrom returns the From address if it is one of c's email SANs.
func matchFrom(outer textproto.Header, c *x509.Certificate) (string, error) {
	h := mail.Header{Header: message.Header{Header: outer}}
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 {
		return "", fmt.Errorf("%w: need exactly one From address (%q)", ErrFromMismatch, h.Get("From"))
	}
	addr := from[0].Address
	if slices.ContainsFunc(c.EmailAddresses, func(san string) bool { return strings.EqualFold(san, addr) }) {
		return addr, nil
	}
	return "", fmt.Errorf("%w: From %s, certificate for %s", ErrFromMismatch, addr, strings.Join(c.EmailAddresses, ", "))
}
