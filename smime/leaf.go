package smime

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"net/mail"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// KeyType selects the algorithm of a leaf certificate's key.
type KeyType int

// Key types for leaf certificates. The zero value is RSA-3072.
const (
	RSA3072 KeyType = iota // default: signing and encryption
	RSA2048                // signing and encryption, for old peers
	P256                   // ECDSA: signing only, see [CA.Issue]
)

// String returns the key type's name ("rsa3072", "rsa2048", "p256").
func (k KeyType) String() string {
	switch k {
	case RSA3072:
		return "rsa3072"
	case RSA2048:
		return "rsa2048"
	case P256:
		return "p256"
	}
	return fmt.Sprintf("KeyType(%d)", int(k))
}

// MaxLeafValidity is the longest validity [CA.Issue] accepts (825 days, the
// ceiling mail clients and the CA/Browser Forum S/MIME rules expect).
const MaxLeafValidity = 825 * 24 * time.Hour

// DefaultLeafValidity is used when a [LeafRequest] gives no Validity.
const DefaultLeafValidity = 730 * 24 * time.Hour

// oidEmailAddress is PKCS #9 emailAddress, the legacy subject attribute that
// older S/MIME clients still look at.
var oidEmailAddress = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}

// LeafRequest describes a leaf certificate for one mail address.
type LeafRequest struct {
	Address  string        // the mail address, also the only SAN rfc822Name
	Name     string        // the subject common name; the address if empty
	KeyType  KeyType       // RSA3072 unless set
	Now      time.Time     // issuing time (injectable clock)
	Validity time.Duration // from Now; DefaultLeafValidity if zero, at most MaxLeafValidity
}

// Identity is a leaf certificate with its private key and the chain of
// issuing certificates above it (not including the leaf).
type Identity struct {
	Cert  *x509.Certificate
	Key   crypto.Signer
	Chain []*x509.Certificate
}

// Issue makes a key of req.KeyType and a leaf certificate for req.Address
// signed by ca.
//
// Profile (RFC 8550 / RFC 8551): subject CN = req.Name plus the PKCS #9
// emailAddress attribute; SAN rfc822Name = the address; extended key usage
// emailProtection only; a random positive 128-bit serial; SKI and AKI;
// NotBefore an hour before req.Now. RSA keys get keyUsage digitalSignature +
// keyEncipherment (one certificate to sign and to receive key transport).
// P-256 keys get digitalSignature only: keyAgreement would invite peers to
// encrypt to it with ECDH, which this package (and smallstep/pkcs7) cannot
// decrypt, so such a certificate is for signing only and [Encrypt] refuses
// it with [ErrUnsupported].
func (ca *CA) Issue(req LeafRequest) (*Identity, error) {
	tmpl, key, err := leafTemplate(req)
	if err != nil {
		return nil, err
	}
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		return nil, fmt.Errorf("smime: issue %s: leaf would outlive the ca (ca expires %s)",
			req.Address, ca.Cert.NotAfter.Format(time.DateOnly))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.key)
	if err != nil {
		return nil, fmt.Errorf("smime: issue %s: %w", req.Address, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("smime: issue %s: %w", req.Address, err)
	}
	return &Identity{Cert: cert, Key: key, Chain: []*x509.Certificate{ca.Cert}}, nil
}

// leafTemplate validates req, makes the key and fills the certificate
// template.
func leafTemplate(req LeafRequest) (*x509.Certificate, crypto.Signer, error) {
	addr, err := mail.ParseAddress(req.Address)
	if err != nil || addr.Address != req.Address || addr.Name != "" {
		return nil, nil, fmt.Errorf("smime: issue: bad address %q", req.Address)
	}
	if req.Now.IsZero() {
		return nil, nil, fmt.Errorf("smime: issue %s: zero time (set LeafRequest.Now)", req.Address)
	}
	validity := req.Validity
	if validity == 0 {
		validity = DefaultLeafValidity
	}
	if validity < 0 || validity > MaxLeafValidity {
		return nil, nil, fmt.Errorf("smime: issue %s: validity %s outside (0, 825 days]", req.Address, validity)
	}
	key, usage, err := newLeafKey(req.KeyType)
	if err != nil {
		return nil, nil, fmt.Errorf("smime: issue %s: %w", req.Address, err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return nil, nil, err
	}
	name := req.Name
	if name == "" {
		name = req.Address
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			CommonName: name,
			ExtraNames: []pkix.AttributeTypeAndValue{{
				Type:  oidEmailAddress,
				Value: asn1.RawValue{Tag: asn1.TagIA5String, Bytes: []byte(req.Address)},
			}},
		},
		NotBefore:             req.Now.Add(-backdate),
		NotAfter:              req.Now.Add(validity),
		KeyUsage:              usage,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		BasicConstraintsValid: true,
		EmailAddresses:        []string{req.Address},
		SubjectKeyId:          ski,
	}
	return tmpl, key, nil
}

// newLeafKey generates a key of type t and returns the key usage that fits
// it.
func newLeafKey(t KeyType) (crypto.Signer, x509.KeyUsage, error) {
	sigEnc := x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	switch t {
	case RSA3072:
		k, err := rsa.GenerateKey(rand.Reader, 3072)
		return k, sigEnc, err
	case RSA2048:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		return k, sigEnc, err
	case P256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		return k, x509.KeyUsageDigitalSignature, err
	}
	return nil, 0, fmt.Errorf("%w: key type %s", ErrUnsupported, t)
}

// PKCS12 encodes the identity (key, certificate and whole chain) as a
// PKCS#12 file protected by password, with go-pkcs12's Modern encoder
// (AES-256-CBC, PBKDF2, SHA-256 MAC) that NSS's pk12util and OpenSSL 3
// import. The result holds the private key.
func (id *Identity) PKCS12(password string) ([]byte, error) {
	pfx, err := pkcs12.Modern.Encode(id.Key, id.Cert, id.Chain, password)
	if err != nil {
		return nil, fmt.Errorf("smime: pkcs12: %w", err)
	}
	return pfx, nil
}

// ParsePKCS12 reads a PKCS#12 file holding one key, its certificate and
// optionally its chain.
func ParsePKCS12(pfx []byte, password string) (*Identity, error) {
	k, cert, chain, err := pkcs12.DecodeChain(pfx, password)
	if err != nil {
		return nil, fmt.Errorf("smime: parse pkcs12: %w", err)
	}
	key, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("smime: parse pkcs12: %w: key type %T", ErrUnsupported, k)
	}
	if !publicKeyEqual(key.Public(), cert.PublicKey) {
		return nil, errors.New("smime: parse pkcs12: key does not match certificate")
	}
	return &Identity{Cert: cert, Key: key, Chain: chain}, nil
}

// publicKeyEqual compares two public keys of any supported type.
func publicKeyEqual(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// CertPEM returns the leaf certificate as PEM.
func (id *Identity) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: id.Cert.Raw})
}

// ChainPEM returns the leaf certificate followed by its chain, as PEM.
func (id *Identity) ChainPEM() []byte {
	out := id.CertPEM()
	for _, c := range id.Chain {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}
