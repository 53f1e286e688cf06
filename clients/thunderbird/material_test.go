package thunderbird

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/endymail/endymail/clients"
)

// testMaterial makes S/MIME (ECDSA P-256 CA, RSA-2048 leaf, go-pkcs12
// Modern with the chain) and OpenPGP (v4 Ed25519 + Cv25519) material.
func testMaterial(t testing.TB, address string) clients.Material {
	t.Helper()
	ca, caKey := testCA(t)
	return testMaterialFrom(t, address, ca, caKey)
}

// testCA makes a personal CA (ECDSA P-256).
func testCA(t testing.TB) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(0x7e57), Subject: pkix.Name{CommonName: "Alice personal CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	return mustCert(t, tmpl, tmpl, &caKey.PublicKey, caKey), caKey
}

// testMaterialFrom issues an RSA-2048 leaf for address from ca (serial
// random with the high bit set, so its DER has a leading 0x00) and packs it
// with go-pkcs12 Modern and the chain.
func testMaterialFrom(t testing.TB, address string, ca *x509.Certificate, caKey *ecdsa.PrivateKey) clients.Material {
	t.Helper()
	leafKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 71))
	if err != nil {
		t.Fatal(err)
	}
	serial.SetBit(serial, 71, 1)
	now := time.Now()
	leaf := mustCert(t, &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: address, ExtraNames: []pkix.AttributeTypeAndValue{{Type: []int{1, 2, 840, 113549, 1, 9, 1}, Value: address}}},
		EmailAddresses: []string{address}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}, ca, &leafKey.PublicKey, caKey)
	p12, err := pkcs12.Modern.Encode(leafKey, leaf, []*x509.Certificate{ca}, "p12 pass")
	if err != nil {
		t.Fatal(err)
	}
	return clients.Material{
		Address: address, Name: "Alice",
		SMIME:   &clients.SMIME{PKCS12: p12, Password: "p12 pass", Cert: leaf, Chain: []*x509.Certificate{ca}, CA: ca},
		OpenPGP: testOpenPGP(t, address),
	}
}

func mustCert(t testing.TB, tmpl, parent *x509.Certificate, pub, priv any) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testOpenPGP(t testing.TB, address string) *clients.OpenPGP {
	t.Helper()
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519, DefaultHash: 0}
	e, err := openpgp.NewEntity("Alice", "", address, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var sec, pub bytes.Buffer
	if err := e.SerializePrivate(&sec, cfg); err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(&pub); err != nil {
		t.Fatal(err)
	}
	return &clients.OpenPGP{Secret: sec.Bytes(), Public: pub.Bytes(),
		Fingerprint: strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))}
}

// testLeaf issues an ECDSA mail certificate for address, signed by parent
// with key (any signer, also one that is not a CA).
func testLeaf(t testing.TB, address string, parent *x509.Certificate, key any) *x509.Certificate {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	return mustCert(t, &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: address},
		EmailAddresses: []string{address}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}, parent, &k.PublicKey, key)
}
