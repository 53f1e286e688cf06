package smime

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/asn1"
	"fmt"
	"mime"

	"github.com/smallstep/pkcs7"
)

// S/MIME capabilities (RFC 8551 section 2.5.2) announced in every signature,
// so peers answer with AES-256-CBC.
var (
	oidSMIMECapabilities = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 15}
	oidAES256CBC         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidAES128CBC         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
)

type smimeCapability struct {
	Algorithm asn1.ObjectIdentifier
}

// Sign returns msg as a multipart/signed message (RFC 8551 section 3.5.3):
// the Content-* fields and body become the first part, canonicalized to
// CRLF, and a detached CMS SignedData over it (SHA-256, with the signer's
// certificate and chain, signing time and S/MIME capabilities) the second.
// From, To, Subject, Date, Message-ID and the other message fields stay on
// the outer message, unchanged.
func Sign(msg []byte, id *Identity) ([]byte, error) {
	outer, entity, err := innerEntity(msg)
	if err != nil {
		return nil, fmt.Errorf("smime: sign: %w", err)
	}
	sig, err := signDetached(entity, id)
	if err != nil {
		return nil, fmt.Errorf("smime: sign: %w", err)
	}
	boundary, err := randomBoundary()
	if err != nil {
		return nil, fmt.Errorf("smime: sign: %w", err)
	}
	ct := mime.FormatMediaType("multipart/signed", map[string]string{
		"protocol": "application/pkcs7-signature",
		"micalg":   "sha-256",
		"boundary": boundary,
	})
	var b bytes.Buffer
	b.WriteString("This is a cryptographically signed message in MIME format.\r\n\r\n")
	b.WriteString("--" + boundary + "\r\n")
	b.Write(entity)
	b.WriteString("\r\n--" + boundary + "\r\n")
	b.WriteString("Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n")
	b.WriteString("Content-Transfer-Encoding: base64\r\n")
	b.WriteString("Content-Disposition: attachment; filename=\"smime.p7s\"\r\n")
	b.WriteString("Content-Description: S/MIME Cryptographic Signature\r\n\r\n")
	writeWrapped(&b, sig)
	b.WriteString("\r\n--" + boundary + "--\r\n")
	return wrapEntity(outer, []field{{"Content-Type", ct}}, b.Bytes())
}

// signDetached makes a detached SignedData over content.
func signDetached(content []byte, id *Identity) ([]byte, error) {
	switch id.Key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey:
	default:
		return nil, fmt.Errorf("%w: signing key of type %T", ErrUnsupported, id.Key)
	}
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		return nil, err
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	caps, err := asn1.Marshal([]smimeCapability{{oidAES256CBC}, {oidAES128CBC}})
	if err != nil {
		return nil, err
	}
	cfg := pkcs7.SignerInfoConfig{ExtraSignedAttributes: []pkcs7.Attribute{{
		Type:  oidSMIMECapabilities,
		Value: asn1.RawValue{FullBytes: caps},
	}}}
	if err := sd.AddSignerChain(id.Cert, id.Key, id.Chain, cfg); err != nil {
		return nil, err
	}
	sd.Detach()
	return sd.Finish()
}
