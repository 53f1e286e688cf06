package smime

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// CAValidity is how long a personal CA certificate is valid.
const CAValidity = 10 * 365 * 24 * time.Hour

// backdate is how far NotBefore lies before the issuing time, so that a
// certificate verifies on devices whose clock is a little behind.
const backdate = time.Hour

// CA is an account's personal certification authority: an ECDSA P-256 key
// and its self-signed certificate, which issues the account's S/MIME leaf
// certificates. Mail clients trust it for email only.
type CA struct {
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NewCA makes a personal CA named name (the subject common name), valid from
// now (backdated by an hour) for [CAValidity].
//
// permitted, if given, restricts the CA with a critical name constraints
// extension to those rfc822Name subtrees: a full address
// ("alice@example.com") permits that mailbox, a domain ("example.com") every
// mailbox at that host. Leaf certificates for other addresses then fail to
// verify in every peer. Without permitted the CA is unconstrained by name.
// Either way its extended key usage is emailProtection only, so it cannot
// vouch for TLS servers.
func NewCA(name string, now time.Time, permitted ...string) (*CA, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errors.New("smime: new ca: empty name")
	}
	if now.IsZero() {
		return nil, errors.New("smime: new ca: zero time")
	}
	for _, p := range permitted {
		if !validConstraint(p) {
			return nil, fmt.Errorf("smime: new ca: bad name constraint %q", p)
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("smime: new ca: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:                serial,
		Subject:                     pkix.Name{CommonName: name},
		NotBefore:                   now.Add(-backdate),
		NotAfter:                    now.Add(CAValidity),
		KeyUsage:                    x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		ExtKeyUsage:                 []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		BasicConstraintsValid:       true,
		IsCA:                        true,
		MaxPathLen:                  0,
		MaxPathLenZero:              true,
		SubjectKeyId:                ski,
		PermittedEmailAddresses:     permitted,
		PermittedDNSDomainsCritical: len(permitted) > 0,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("smime: new ca: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("smime: new ca: %w", err)
	}
	return &CA{Cert: cert, key: key}, nil
}

// validConstraint accepts a mailbox or a domain for an rfc822Name constraint.
func validConstraint(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t\r\n<>") {
		return false
	}
	local, domain, found := strings.Cut(s, "@")
	if found && local == "" {
		return false
	}
	if !found {
		domain = s
	}
	return domain != "" && !strings.Contains(domain, "@")
}

// Marshal returns the CA's private key (PKCS#8) and certificate as a PEM
// bundle. The result holds a secret: store it only encrypted (in a key
// bundle) or in a 0600 file.
func (ca *CA) Marshal() ([]byte, error) {
	key, err := x509.MarshalPKCS8PrivateKey(ca.key)
	if err != nil {
		return nil, fmt.Errorf("smime: marshal ca: %w", err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})...), nil
}

// ParseCA reads a bundle written by [CA.Marshal]. It checks that the
// certificate is a CA certificate and that the key matches it.
func ParseCA(data []byte) (*CA, error) {
	var keyDER, certDER []byte
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		switch b.Type {
		case "PRIVATE KEY":
			keyDER = b.Bytes
		case "CERTIFICATE":
			certDER = b.Bytes
		}
	}
	if keyDER == nil || certDER == nil {
		return nil, fmt.Errorf("smime: parse ca: %w: need one PRIVATE KEY and one CERTIFICATE block", ErrMalformed)
	}
	k, err := x509.ParsePKCS8PrivateKey(keyDER)
	if err != nil {
		return nil, fmt.Errorf("smime: parse ca: %w: %w", ErrMalformed, err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("smime: parse ca: %w: key is %T, want ECDSA", ErrUnsupported, k)
	}
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, fmt.Errorf("smime: parse ca: %w: %w", ErrMalformed, err)
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("smime: parse ca: %w: certificate is not a CA", ErrMalformed)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("smime: parse ca: %w: key does not match certificate", ErrMalformed)
	}
	return &CA{Cert: cert, key: key}, nil
}

// randomSerial returns a positive serial number with 128 random bits. The
// bytes are read as an unsigned big-endian number, so the value is never
// negative; DER adds a leading zero octet when the top bit is set (17 octets,
// within RFC 5280's limit of 20).
func randomSerial() (*big.Int, error) {
	b := make([]byte, 16)
	for {
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("smime: serial: %w", err)
		}
		if n := new(big.Int).SetBytes(b); n.Sign() > 0 {
			return n, nil
		}
	}
}

// subjectKeyID computes a key identifier per RFC 7093 section 2 method 1:
// the leftmost 160 bits of the SHA-256 hash of the subjectPublicKey bits.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("smime: key id: %w", err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, fmt.Errorf("smime: key id: %w", err)
	}
	sum := sha256.Sum256(spki.PublicKey.Bytes)
	return sum[:20], nil
}
