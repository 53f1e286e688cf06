//go:build linux

package nsslib

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/endymail/endymail/clients/thunderbird/tbtest"
	"github.com/endymail/endymail/internal/interop"
	"github.com/endymail/endymail/internal/winetest"
	"github.com/endymail/endymail/smime"
)

func TestMain(m *testing.M) {
	crashForTest()
	ServeIfHelper()
	code := m.Run()
	winetest.Cleanup()
	os.Exit(code)
}

// libDir returns Thunderbird's NSS folder, or skips naming the package.
func libDir(t testing.TB) string {
	t.Helper()
	interop.NeedFile(t, filepath.Join(tbtest.NSSLibDir, "libnss3.so"), "thunderbird")
	return tbtest.NSSLibDir
}

// run runs ops on db with Thunderbird's NSS and fails t on an error.
func mustRun(t testing.TB, db string, ops ...Op) []Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, libDir(t), db, ops...)
	if err != nil {
		t.Fatalf("Run %v: %v", kinds(ops), err)
	}
	return res
}

func kinds(ops []Op) []Kind {
	var out []Kind
	for _, op := range ops {
		out = append(out, op.Kind)
	}
	return out
}

// newDB creates an empty database with nsslib.
func newDB(t testing.TB) string {
	t.Helper()
	db := t.TempDir()
	mustRun(t, db, Op{Kind: Create})
	return db
}

// identity issues an RSA-2048 leaf for addr from a new personal CA.
func identity(t testing.TB, addr string) (*smime.CA, *smime.Identity) {
	t.Helper()
	ca, err := smime.NewCA("Test personal CA", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	id, err := ca.Issue(smime.LeafRequest{Address: addr, KeyType: smime.RSA2048, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return ca, id
}

func certutil(t testing.TB, args ...string) string {
	t.Helper()
	return tbtest.RunNSSTool(t, "certutil", args...)
}

// certutilTrust reads the trust of nick from certutil -L's table.
func certutilTrust(t testing.TB, db, nick string) string {
	t.Helper()
	for _, line := range strings.Split(certutil(t, "-L", "-d", "sql:"+db), "\n") {
		line = strings.TrimRight(line, " ")
		if i := strings.LastIndexByte(line, ' '); i > 0 && strings.TrimSpace(line[:i]) == nick {
			return line[i+1:]
		}
	}
	return ""
}

func TestImportPKCS12SeenByCertutil(t *testing.T) {
	db := newDB(t)
	ca, id := identity(t, "alice@example.com")
	p12, err := id.PKCS12("s3cret pässword")
	if err != nil {
		t.Fatal(err)
	}
	const nick, caNick = "alice@example.com endymail", "endymail test CA"
	mustRun(t, db,
		Op{Kind: AddCert, Nick: caNick, Trust: ",C,", Data: ca.Cert.Raw},
		Op{Kind: AddCert, Nick: nick, Trust: ",,", Data: id.Cert.Raw},
		Op{Kind: ImportPKCS12, Data: p12, Password: "s3cret pässword"})

	if got := certutilTrust(t, db, caNick); got != ",C," {
		t.Errorf("certutil -L trust of the CA: got %q, want %q", got, ",C,")
	}
	if got := certutilTrust(t, db, nick); got != "u,u,u" {
		t.Errorf("certutil -L trust of the leaf: got %q, want %q", got, "u,u,u")
	}
	pemOut := certutil(t, "-L", "-d", "sql:"+db, "-n", nick, "-a")
	if b, _ := pem.Decode([]byte(pemOut)); b == nil || !slices.Equal(b.Bytes, id.Cert.Raw) {
		t.Errorf("certutil -L -n %q -a: got %q, want the leaf", nick, pemOut)
	}
	if keys := certutil(t, "-K", "-d", "sql:"+db); !strings.Contains(keys, nick) {
		t.Errorf("certutil -K: got %q, want a key for %q", keys, nick)
	}

	res := mustRun(t, db, Op{Kind: List}, Op{Kind: Keys}, Op{Kind: Certs, Nick: nick}, Op{Kind: Find, Data: ca.Cert.Raw})
	if got := res[0].Trust; got[nick] != "u,u,u" || got[caNick] != ",C," {
		t.Errorf("List: got %v, want %q u,u,u and %q ,C,", got, nick, caNick)
	}
	if got := res[1].Keys; !slices.Equal(got, []string{nick}) {
		t.Errorf("Keys: got %q, want [%q]", got, nick)
	}
	if got := res[2].Certs; len(got) != 1 || !slices.Equal(got[0], id.Cert.Raw) {
		t.Errorf("Certs(%q): got %d certificates, want the leaf", nick, len(got))
	}
	if !res[3].Found || res[3].Flags != ",C," {
		t.Errorf("Find(CA): got found=%v flags=%q, want true \",C,\"", res[3].Found, res[3].Flags)
	}
}

func TestCertutilCertListedByNSSLib(t *testing.T) {
	db := t.TempDir()
	certutil(t, "-N", "-d", "sql:"+db, "--empty-password")
	ca, _ := identity(t, "bob@example.com")
	f := filepath.Join(t.TempDir(), "ca.der")
	if err := os.WriteFile(f, ca.Cert.Raw, 0o600); err != nil {
		t.Fatal(err)
	}
	certutil(t, "-A", "-d", "sql:"+db, "-n", "bob CA", "-t", "CT,C,C", "-i", f)
	res := mustRun(t, db, Op{Kind: List}, Op{Kind: Certs, Nick: "bob CA"}, Op{Kind: Certs, Nick: "nobody"}, Op{Kind: Keys})
	if got := res[0].Trust["bob CA"]; got != "CT,C,C" {
		t.Errorf("List: got trust %q for %q, want %q (all: %v)", got, "bob CA", "CT,C,C", res[0].Trust)
	}
	if got := res[1].Certs; len(got) != 1 || !slices.Equal(got[0], ca.Cert.Raw) {
		t.Errorf("Certs: got %d certificates, want the CA", len(got))
	}
	if len(res[2].Certs) != 0 || len(res[3].Keys) != 0 {
		t.Errorf("unknown nickname and keys: got %d certificates and keys %q, want none", len(res[2].Certs), res[3].Keys)
	}
	x, err := x509.ParseCertificate(res[1].Certs[0])
	if err != nil || x.Subject.CommonName != "Test personal CA" {
		t.Errorf("parsed certificate: got %v, %v", x, err)
	}
}
