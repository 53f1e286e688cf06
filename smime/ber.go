package smime

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
)

// This file walks the outer layers of a CMS ContentInfo (BER or DER) to find
// out, before smallstep/pkcs7 sees it, whether the message uses something that
// library cannot read. The library only parses KeyTransRecipientInfo with
// issuerAndSerialNumber, SignerInfo with issuerAndSerialNumber, and the
// enveloped-data, signed-data and encrypted-data content types; everything
// else would fail there with an opaque ASN.1 error or, for signed-data, be
// silently half-parsed.

// Limits on what the walker accepts.
const (
	maxBERDepth = 24
	maxBERNodes = 1 << 16
)

var errBER = errors.New("bad ber encoding")

// node is one BER TLV. Constructed nodes have kids; primitive nodes have
// content. raw is the node's whole encoding.
type node struct {
	class, tag int
	compound   bool
	content    []byte
	kids       []node
	raw        []byte
}

// Content types and algorithms this file looks for.
var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidEnvelopedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}
	oidAuthEnveloped = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 23}
	oidCompressed    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 9}
)

// parseBER reads exactly one BER element filling b.
func parseBER(b []byte) (node, error) {
	budget := maxBERNodes
	n, rest, err := readNode(b, 0, &budget)
	if err != nil {
		return node{}, err
	}
	if len(rest) != 0 {
		return node{}, fmt.Errorf("%w: %d trailing bytes", errBER, len(rest))
	}
	return n, nil
}

// readNode reads one TLV from b and returns it with the bytes after it.
func readNode(b []byte, depth int, budget *int) (node, []byte, error) {
	*budget--
	if depth > maxBERDepth || *budget < 0 {
		return node{}, nil, fmt.Errorf("%w: too deeply nested or too many elements", errBER)
	}
	n, hdr, length, err := readHeader(b)
	if err != nil {
		return n, nil, err
	}
	body := b[hdr:]
	if length >= 0 {
		if length > len(body) {
			return n, nil, fmt.Errorf("%w: length %d past end (%d left)", errBER, length, len(body))
		}
		body = body[:length]
		n.raw = b[:hdr+length]
		n.content = body
		if n.compound {
			for len(body) > 0 {
				var k node
				if k, body, err = readNode(body, depth+1, budget); err != nil {
					return n, nil, err
				}
				n.kids = append(n.kids, k)
			}
		}
		return n, b[hdr+length:], nil
	}
	// Indefinite length: kids up to the end-of-contents octets.
	for {
		if len(body) >= 2 && body[0] == 0 && body[1] == 0 {
			n.raw = b[:len(b)-len(body)+2]
			return n, body[2:], nil
		}
		if len(body) == 0 {
			return n, nil, fmt.Errorf("%w: missing end of contents", errBER)
		}
		var k node
		if k, body, err = readNode(body, depth+1, budget); err != nil {
			return n, nil, err
		}
		n.kids = append(n.kids, k)
	}
}

// readHeader decodes a tag and length. length is -1 for the indefinite form.
func readHeader(b []byte) (n node, hdr, length int, err error) {
	if len(b) < 2 {
		return n, 0, 0, fmt.Errorf("%w: truncated header", errBER)
	}
	n.class = int(b[0] >> 6)
	n.compound = b[0]&0x20 != 0
	n.tag = int(b[0] & 0x1f)
	i := 1
	if n.tag == 0x1f {
		n.tag = 0
		for {
			if i >= len(b) || i > 4 {
				return n, 0, 0, fmt.Errorf("%w: bad high tag number", errBER)
			}
			n.tag = n.tag<<7 | int(b[i]&0x7f)
			i++
			if b[i-1]&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(b) {
		return n, 0, 0, fmt.Errorf("%w: truncated length", errBER)
	}
	l := int(b[i])
	i++
	switch {
	case l < 0x80:
		return n, i, l, nil
	case l == 0x80:
		if !n.compound {
			return n, 0, 0, fmt.Errorf("%w: indefinite length on a primitive", errBER)
		}
		return n, i, -1, nil
	case l-0x80 > 4 || i+l-0x80 > len(b):
		return n, 0, 0, fmt.Errorf("%w: bad length of length", errBER)
	}
	length = 0
	for _, c := range b[i : i+l-0x80] {
		length = length<<8 | int(c)
	}
	if length < 0 || length > 1<<30 {
		return n, 0, 0, fmt.Errorf("%w: length too large", errBER)
	}
	return n, i + l - 0x80, length, nil
}

func (n node) is(class, tag int) bool { return n.class == class && n.tag == tag }

func (n node) oid() (asn1.ObjectIdentifier, bool) {
	var o asn1.ObjectIdentifier
	if !n.is(asn1.ClassUniversal, asn1.TagOID) {
		return nil, false
	}
	_, err := asn1.Unmarshal(n.raw, &o)
	return o, err == nil
}

// contentInfo splits a ContentInfo into its content type and its explicit
// [0] content.
func contentInfo(der []byte) (asn1.ObjectIdentifier, node, error) {
	root, err := parseBER(der)
	if err != nil {
		return nil, node{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if !root.is(asn1.ClassUniversal, asn1.TagSequence) || len(root.kids) != 2 {
		return nil, node{}, fmt.Errorf("%w: not a cms content info", ErrMalformed)
	}
	ct, ok := root.kids[0].oid()
	c := root.kids[1]
	if !ok || !c.is(asn1.ClassContextSpecific, 0) || len(c.kids) != 1 {
		return nil, node{}, fmt.Errorf("%w: not a cms content info", ErrMalformed)
	}
	return ct, c.kids[0], nil
}

// checkEnveloped checks that der is an EnvelopedData smallstep/pkcs7 can
// read and that it has a key-transport recipient for cert. It returns the
// content-encryption key length the message's cipher needs (0 if unknown).
func checkEnveloped(der []byte, cert *x509.Certificate) (int, error) {
	ct, ed, err := contentInfo(der)
	if err != nil {
		return 0, err
	}
	switch {
	case ct.Equal(oidAuthEnveloped):
		return 0, fmt.Errorf("%w: AuthEnvelopedData (AES-GCM) content", ErrUnsupported)
	case !ct.Equal(oidEnvelopedData):
		return 0, fmt.Errorf("%w: cms content type %s", ErrNotEncrypted, ct)
	}
	if !ed.is(asn1.ClassUniversal, asn1.TagSequence) || len(ed.kids) < 3 {
		return 0, fmt.Errorf("%w: bad enveloped data", ErrMalformed)
	}
	ris := ed.kids[1]
	if ris.is(asn1.ClassContextSpecific, 0) {
		return 0, fmt.Errorf("%w: enveloped data with originator info", ErrUnsupported)
	}
	if !ris.is(asn1.ClassUniversal, asn1.TagSet) {
		return 0, fmt.Errorf("%w: bad recipient infos", ErrMalformed)
	}
	if err := findRecipient(ris.kids, cert); err != nil {
		return 0, err
	}
	return contentKeyLen(ed.kids[2]), nil
}

// Key lengths of the content-encryption algorithms smallstep/pkcs7 reads.
var contentKeyLens = map[string]int{
	"2.16.840.1.101.3.4.1.42": 32, // AES-256-CBC
	"2.16.840.1.101.3.4.1.2":  16, // AES-128-CBC
	"1.2.840.113549.3.7":      24, // DES-EDE3-CBC
	"1.3.14.3.2.7":            8,  // DES-CBC
}

// contentKeyLen reads the cipher of an EncryptedContentInfo.
func contentKeyLen(eci node) int {
	if len(eci.kids) < 2 || len(eci.kids[1].kids) == 0 {
		return 0
	}
	alg, ok := eci.kids[1].kids[0].oid()
	if !ok {
		return 0
	}
	return contentKeyLens[alg.String()]
}

// findRecipient looks for cert among recipient infos. A recipient form the
// library cannot decrypt is reported as ErrUnsupported only when it could be
// meant for cert; otherwise a missing entry is ErrNotRecipient.
func findRecipient(ris []node, cert *x509.Certificate) error {
	var unsupported string
	for _, ri := range ris {
		switch {
		case ri.is(asn1.ClassContextSpecific, 1):
			if isECKey(cert) {
				unsupported = "key agreement (ECDH) recipient"
			}
		case ri.class == asn1.ClassContextSpecific:
			// KEK, password and other recipients are never for a certificate.
		case ri.is(asn1.ClassUniversal, asn1.TagSequence) && len(ri.kids) == 4:
			rid := ri.kids[1]
			if rid.is(asn1.ClassContextSpecific, 0) {
				if len(cert.SubjectKeyId) > 0 && bytes.Equal(rid.content, cert.SubjectKeyId) {
					unsupported = "recipient identified by subject key identifier"
				}
				continue
			}
			if matchIssuerSerial(rid, cert) {
				return nil
			}
		default:
			return fmt.Errorf("%w: bad recipient info", ErrMalformed)
		}
	}
	if unsupported != "" {
		return fmt.Errorf("%w: %s", ErrUnsupported, unsupported)
	}
	return fmt.Errorf("%w: no recipient entry for serial %x issued by %q",
		ErrNotRecipient, cert.SerialNumber, cert.Issuer.String())
}

// matchIssuerSerial reports whether an IssuerAndSerialNumber names cert.
func matchIssuerSerial(ias node, cert *x509.Certificate) bool {
	if !ias.is(asn1.ClassUniversal, asn1.TagSequence) || len(ias.kids) != 2 {
		return false
	}
	var serial *big.Int
	if _, err := asn1.Unmarshal(ias.kids[1].raw, &serial); err != nil {
		return false
	}
	return bytes.Equal(ias.kids[0].raw, cert.RawIssuer) && serial.Cmp(cert.SerialNumber) == 0
}

// checkSigned checks that der is a SignedData smallstep/pkcs7 can verify and
// returns the number of signers.
func checkSigned(der []byte) (int, error) {
	ct, sd, err := contentInfo(der)
	if err != nil {
		return 0, err
	}
	switch {
	case ct.Equal(oidCompressed):
		return 0, fmt.Errorf("%w: compressed-data content", ErrUnsupported)
	case !ct.Equal(oidSignedData):
		return 0, fmt.Errorf("%w: cms content type %s", ErrNotSigned, ct)
	}
	if !sd.is(asn1.ClassUniversal, asn1.TagSequence) || len(sd.kids) < 4 {
		return 0, fmt.Errorf("%w: bad signed data", ErrMalformed)
	}
	encap := sd.kids[2]
	if !encap.is(asn1.ClassUniversal, asn1.TagSequence) || len(encap.kids) == 0 {
		return 0, fmt.Errorf("%w: bad encapsulated content info", ErrMalformed)
	}
	if et, ok := encap.kids[0].oid(); !ok || !et.Equal(oidData) {
		return 0, fmt.Errorf("%w: signed content of type %s, want data", ErrUnsupported, et)
	}
	sis := sd.kids[len(sd.kids)-1]
	if !sis.is(asn1.ClassUniversal, asn1.TagSet) || len(sis.kids) == 0 {
		return 0, fmt.Errorf("%w: no signer infos", ErrMalformed)
	}
	for _, si := range sis.kids {
		if !si.is(asn1.ClassUniversal, asn1.TagSequence) || len(si.kids) < 5 {
			return 0, fmt.Errorf("%w: bad signer info", ErrMalformed)
		}
		if si.kids[1].is(asn1.ClassContextSpecific, 0) {
			return 0, fmt.Errorf("%w: signer identified by subject key identifier", ErrUnsupported)
		}
	}
	return len(sis.kids), nil
}

// isECKey reports whether cert holds an elliptic-curve key.
func isECKey(cert *x509.Certificate) bool {
	return cert.PublicKeyAlgorithm == x509.ECDSA
}
