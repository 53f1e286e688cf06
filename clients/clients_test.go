package clients

import (
	"crypto/x509"
	"errors"
	"testing"
)

func TestMaterialValidate(t *testing.T) {
	cert := &x509.Certificate{}
	good := Material{
		Address: "alice@example.com",
		SMIME:   &SMIME{PKCS12: []byte{1}, Cert: cert, CA: cert},
		OpenPGP: &OpenPGP{Secret: []byte{1}, Public: []byte{1}, Fingerprint: "0123456789ABCDEF0123456789ABCDEF01234567"},
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid material: %v", err)
	}
	bad := map[string]func(m *Material){
		"no at":          func(m *Material) { m.Address = "alice" },
		"display form":   func(m *Material) { m.Address = "Alice <alice@example.com>" },
		"empty domain":   func(m *Material) { m.Address = "alice@" },
		"unknown prefer": func(m *Material) { m.Prefer = "pgp" },
		"nothing":        func(m *Material) { m.SMIME, m.OpenPGP = nil, nil },
		"no CA":          func(m *Material) { m.SMIME = &SMIME{PKCS12: []byte{1}, Cert: cert} },
		"lower-case fpr": func(m *Material) {
			m.OpenPGP = &OpenPGP{Secret: []byte{1}, Public: []byte{1}, Fingerprint: "0123456789abcdef0123456789abcdef01234567"}
		},
		"short fpr":         func(m *Material) { m.OpenPGP = &OpenPGP{Secret: []byte{1}, Public: []byte{1}, Fingerprint: "0123"} },
		"no public OpenPGP": func(m *Material) { m.OpenPGP = &OpenPGP{Secret: []byte{1}, Fingerprint: good.OpenPGP.Fingerprint} },
	}
	for name, spoil := range bad {
		m := good
		spoil(&m)
		if err := m.Validate(); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", name, err)
		}
	}
}
