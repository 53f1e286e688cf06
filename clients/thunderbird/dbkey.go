package thunderbird

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"errors"
)

// DBKey returns the key Thunderbird finds a certificate by
// (nsNSSCertificate::GetDbKey): base64 of 4 zero bytes (module id), 4 zero
// bytes (slot id), be32 length of the serial, be32 length of the issuer,
// the serial's DER content bytes (with any leading 0x00) and the issuer's
// DER.
func DBKey(cert *x509.Certificate) (string, error) {
	serial, err := rawSerial(cert.Raw)
	if err != nil {
		return "", err
	}
	b := make([]byte, 16, 16+len(serial)+len(cert.RawIssuer))
	binary.BigEndian.PutUint32(b[8:], uint32(len(serial)))
	binary.BigEndian.PutUint32(b[12:], uint32(len(cert.RawIssuer)))
	b = append(append(b, serial...), cert.RawIssuer...)
	return base64.StdEncoding.EncodeToString(b), nil
}

// rawSerial returns the content bytes of the serialNumber INTEGER exactly as
// encoded, which big.Int would lose (leading 0x00).
func rawSerial(der []byte) ([]byte, error) {
	errSerial := errors.New("certificate: cannot read the serial number")
	var cert, field asn1.RawValue
	if _, err := asn1.Unmarshal(der, &cert); err != nil {
		return nil, errSerial
	}
	var tbs asn1.RawValue
	if _, err := asn1.Unmarshal(cert.Bytes, &tbs); err != nil {
		return nil, errSerial
	}
	rest, err := asn1.Unmarshal(tbs.Bytes, &field)
	if err == nil && field.Class == asn1.ClassContextSpecific && field.Tag == 0 {
		_, err = asn1.Unmarshal(rest, &field)
	}
	if err != nil || field.Class != asn1.ClassUniversal || field.Tag != asn1.TagInteger {
		return nil, errSerial
	}
	return field.Bytes, nil
}
