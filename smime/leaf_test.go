package smime

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"testing"
	"time"
)

var (
	oidExtKeyUsage  = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidKeyUsage     = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidBasicConstr  = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidNameConstr   = asn1.ObjectIdentifier{2, 5, 29, 30}
	oidSubjectAltNm = asn1.ObjectIdentifier{2, 5, 29, 17}
)

func critical(c *x509.Certificate, oid asn1.ObjectIdentifier) (found, crit bool) {
	for _, e := range c.Extensions {
		if e.Id.Equal(oid) {
			return true, e.Critical
		}
	}
	return false, false
}

func TestNewCAProfile(t *testing.T) {
	ca, err := NewCA("Alice CA", testNow, "alice@example.com", "example.org")
	if err != nil {
		t.Fatal(err)
	}
	c := ca.Cert
	if !c.IsCA || c.MaxPathLen != 0 || !c.MaxPathLenZero {
		t.Errorf("got IsCA=%v MaxPathLen=%d zero=%v, want CA pathlen 0", c.IsCA, c.MaxPathLen, c.MaxPathLenZero)
	}
	if f, crit := critical(c, oidBasicConstr); !f || !crit {
		t.Errorf("basicConstraints found=%v critical=%v, want critical", f, crit)
	}
	if c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("got key usage %b, want certSign|cRLSign", c.KeyUsage)
	}
	if f, crit := critical(c, oidNameConstr); !f || !crit {
		t.Errorf("nameConstraints found=%v critical=%v, want critical", f, crit)
	}
	if want := []string{"alice@example.com", "example.org"}; !equalStrings(c.PermittedEmailAddresses, want) {
		t.Errorf("got permitted %q, want %q", c.PermittedEmailAddresses, want)
	}
	if _, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || c.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		t.Errorf("got key %T sig %s, want ECDSA P-256 with SHA-256", c.PublicKey, c.SignatureAlgorithm)
	}
	if len(c.SubjectKeyId) != 20 {
		t.Errorf("got SKI of %d bytes, want 20", len(c.SubjectKeyId))
	}
	if got := c.NotAfter.Sub(c.NotBefore); got != CAValidity+backdate {
		t.Errorf("got validity %s, want %s", got, CAValidity+backdate)
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Errorf("self-signature: %v", err)
	}
	if _, err := NewCA("x", testNow, "a b@c"); err == nil {
		t.Error("NewCA accepted a bad constraint")
	}
	if _, err := NewCA("x", time.Time{}); err == nil {
		t.Error("NewCA accepted a zero time")
	}
}

func TestCAMarshalRoundTrip(t *testing.T) {
	ca := testCA(t)
	b, err := ca.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseCA(b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Cert.Equal(ca.Cert) || !got.key.Equal(ca.key) {
		t.Error("round trip changed the CA")
	}
	other, _ := NewCA("other", testNow)
	ob, _ := other.Marshal()
	mixed := append(bytes.Clone(b[:bytes.Index(b, []byte("-----BEGIN CERTIFICATE"))]), ob[bytes.Index(ob, []byte("-----BEGIN CERTIFICATE")):]...)
	if _, err := ParseCA(mixed); !errors.Is(err, ErrMalformed) {
		t.Errorf("mismatched key: got %v, want ErrMalformed", err)
	}
}

func TestIssueProfile(t *testing.T) {
	for _, kt := range []KeyType{RSA3072, RSA2048, P256} {
		t.Run(kt.String(), func(t *testing.T) {
			id := testIdentity(t, "alice@example.com", kt)
			// Re-parse from DER so the test checks what is on the wire.
			c, err := x509.ParseCertificate(id.Cert.Raw)
			if err != nil {
				t.Fatal(err)
			}
			checkLeaf(t, c, kt)
			if err := c.CheckSignatureFrom(testCA(t).Cert); err != nil {
				t.Errorf("not signed by the CA: %v", err)
			}
			if len(id.Chain) != 1 || !id.Chain[0].Equal(testCA(t).Cert) {
				t.Errorf("got chain of %d, want the CA", len(id.Chain))
			}
		})
	}
}

func checkLeaf(t *testing.T, c *x509.Certificate, kt KeyType) {
	t.Helper()
	wantKU := x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	bits := map[KeyType]int{RSA3072: 3072, RSA2048: 2048}
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() != bits[kt] {
			t.Errorf("got RSA-%d, want %s", k.N.BitLen(), kt)
		}
	case *ecdsa.PublicKey:
		wantKU = x509.KeyUsageDigitalSignature
		if kt != P256 || k.Curve.Params().Name != "P-256" {
			t.Errorf("got %s key, want %s", k.Curve.Params().Name, kt)
		}
	}
	if c.KeyUsage != wantKU {
		t.Errorf("got key usage %b, want %b", c.KeyUsage, wantKU)
	}
	if f, crit := critical(c, oidKeyUsage); !f || !crit {
		t.Errorf("keyUsage found=%v critical=%v, want critical", f, crit)
	}
	if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageEmailProtection || len(c.UnknownExtKeyUsage) != 0 {
		t.Errorf("got EKU %v %v, want emailProtection only", c.ExtKeyUsage, c.UnknownExtKeyUsage)
	}
	if f, _ := critical(c, oidExtKeyUsage); !f {
		t.Error("no EKU extension")
	}
	if !equalStrings(c.EmailAddresses, []string{"alice@example.com"}) || len(c.DNSNames)+len(c.URIs)+len(c.IPAddresses) != 0 {
		t.Errorf("got SAN %q, want rfc822Name alice@example.com only", c.EmailAddresses)
	}
	if f, crit := critical(c, oidSubjectAltNm); !f || crit {
		t.Errorf("SAN found=%v critical=%v, want non-critical (subject is not empty)", f, crit)
	}
	checkSubject(t, c)
	if c.IsCA || !c.BasicConstraintsValid {
		t.Errorf("got IsCA=%v, want an end entity with basicConstraints", c.IsCA)
	}
	if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() < 64 || c.SerialNumber.BitLen() > 128 {
		t.Errorf("got serial %x (%d bits), want positive, 64..128 bits", c.SerialNumber, c.SerialNumber.BitLen())
	}
	if len(c.SubjectKeyId) != 20 || !bytes.Equal(c.AuthorityKeyId, testCA(t).Cert.SubjectKeyId) {
		t.Errorf("got SKI %x AKI %x, want 20-byte SKI and AKI = CA SKI", c.SubjectKeyId, c.AuthorityKeyId)
	}
	want := testNow.Add(-time.Hour)
	if !c.NotBefore.Equal(want.Add(-backdate)) || !c.NotAfter.Equal(want.Add(DefaultLeafValidity)) {
		t.Errorf("got validity %s..%s, want %s..%s", c.NotBefore, c.NotAfter, want.Add(-backdate), want.Add(DefaultLeafValidity))
	}
	if c.NotAfter.Sub(c.NotBefore) > MaxLeafValidity+backdate {
		t.Errorf("validity %s over 825 days", c.NotAfter.Sub(c.NotBefore))
	}
}

func checkSubject(t *testing.T, c *x509.Certificate) {
	t.Helper()
	if c.Subject.CommonName != "Test alice@example.com" {
		t.Errorf("got CN %q, want %q", c.Subject.CommonName, "Test alice@example.com")
	}
	var rdns []atvSET
	if _, err := asn1.Unmarshal(c.RawSubject, &rdns); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, rdn := range rdns {
		for _, atv := range rdn {
			if atv.Type.Equal(oidEmailAddress) {
				found = atv.Value.Tag == asn1.TagIA5String && string(atv.Value.Bytes) == "alice@example.com"
			}
		}
	}
	if !found {
		t.Errorf("subject %s has no IA5String emailAddress alice@example.com", c.Subject)
	}
}

func TestIssueRejects(t *testing.T) {
	ca := testCA(t)
	for name, req := range map[string]LeafRequest{
		"bad address":    {Address: "Alice <alice@example.com>", Now: testNow},
		"too long":       {Address: "alice@example.com", Now: testNow, Validity: MaxLeafValidity + time.Hour},
		"outlives ca":    {Address: "alice@example.com", Now: ca.Cert.NotAfter.Add(-24 * time.Hour), KeyType: P256},
		"bad key type":   {Address: "alice@example.com", Now: testNow, KeyType: KeyType(9)},
		"negative valid": {Address: "alice@example.com", Now: testNow, Validity: -time.Hour},
		"zero time":      {Address: "alice@example.com", KeyType: P256},
	} {
		if _, err := ca.Issue(req); err == nil {
			t.Errorf("%s: Issue succeeded, want an error", name)
		}
	}
}

func TestPKCS12RoundTrip(t *testing.T) {
	for _, kt := range []KeyType{RSA2048, P256} {
		id := testIdentity(t, "alice@example.com", kt)
		pfx, err := id.PKCS12("correct horse")
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParsePKCS12(pfx, "correct horse")
		if err != nil {
			t.Fatal(err)
		}
		if !got.Cert.Equal(id.Cert) || len(got.Chain) != 1 || !got.Chain[0].Equal(id.Chain[0]) {
			t.Errorf("%s: round trip changed cert or chain", kt)
		}
		if !publicKeyEqual(got.Key.Public(), id.Key.Public()) {
			t.Errorf("%s: round trip changed the key", kt)
		}
		if _, err := ParsePKCS12(pfx, "wrong"); err == nil {
			t.Errorf("%s: wrong password accepted", kt)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// atvSET is a RelativeDistinguishedName; encoding/asn1 reads a slice type
// whose name ends in SET as a SET OF.
type atvSET []struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}
