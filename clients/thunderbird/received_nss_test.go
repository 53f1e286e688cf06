//go:build linux

package thunderbird

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/endymail/endymail/clients"
)

// mailLeaf issues an ECDSA certificate for address from ca, valid from
// notBefore to notAfter, with the extended key usage eku.
func mailLeaf(t *testing.T, address string, ca *x509.Certificate, caKey any, notBefore, notAfter time.Time, eku x509.ExtKeyUsage) *x509.Certificate {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	return mustCert(t, &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: address},
		EmailAddresses: []string{address}, NotBefore: notBefore, NotAfter: notAfter, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement, ExtKeyUsage: []x509.ExtKeyUsage{eku},
	}, ca, &k.PublicKey, caKey)
}

// addAsReceived stores c the way NSS stores the signer of a verified
// message Thunderbird displayed: nickname = the address, no trust.
func addAsReceived(t *testing.T, dir, nick string, c *x509.Certificate) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "c.der")
	os.WriteFile(f, c.Raw, 0o600)
	tbNSS(t, nil, "certutil", "-A", "-d", "sql:"+dir, "-n", nick, "-t", ",,", "-i", f)
}

// TestReceivedCertificatesNSS runs ReceivedCertificates on a profile the
// real Thunderbird made, whose NSS database holds certificates as
// Thunderbird keeps them from received mail, and others that must not
// come out.
func TestReceivedCertificatesNSS(t *testing.T) {
	ctx := context.Background()
	dir := startedProfile(t) // identities alice@example.com, bob@example.org
	now := time.Now()
	ca, caKey := testCA(t)
	f := filepath.Join(t.TempDir(), "ca.der")
	os.WriteFile(f, ca.Raw, 0o600)
	tbNSS(t, nil, "certutil", "-A", "-d", "sql:"+dir, "-n", "Other Org Mail CA", "-t", ",C,", "-i", f)
	untrusted, untrustedKey := testCA(t)

	carol := testMaterialFrom(t, "carol@example.net", ca, caKey).SMIME.Cert
	addAsReceived(t, dir, "carol@example.net", carol)
	good := func(a string) *x509.Certificate {
		return mailLeaf(t, a, ca, caKey, now.Add(-time.Hour), now.Add(24*time.Hour), x509.ExtKeyUsageEmailProtection)
	}
	addAsReceived(t, dir, "dave@example.net", mailLeaf(t, "dave@example.net", untrusted, untrustedKey, now.Add(-time.Hour), now.Add(24*time.Hour), x509.ExtKeyUsageEmailProtection))
	addAsReceived(t, dir, "erin@example.net", mailLeaf(t, "erin@example.net", ca, caKey, now.Add(-48*time.Hour), now.Add(-time.Hour), x509.ExtKeyUsageEmailProtection))
	addAsReceived(t, dir, "frank@example.net", mailLeaf(t, "frank@example.net", ca, caKey, now.Add(-time.Hour), now.Add(24*time.Hour), x509.ExtKeyUsageClientAuth))
	addAsReceived(t, dir, "grace@example.net", good("mallory@example.net"))
	addAsReceived(t, dir, "alice@example.com", good("alice@example.com"))
	own := testMaterialFrom(t, "ivan@example.net", ca, caKey)
	p12 := filepath.Join(t.TempDir(), "ivan.p12")
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(p12, own.SMIME.PKCS12, 0o600)
	os.WriteFile(pw, []byte(own.SMIME.Password+"\n"), 0o600)
	tbNSS(t, nil, "pk12util", "-i", p12, "-d", "sql:"+dir, "-w", pw)
	c := New(Options{Profiles: []string{dir}})
	heidi := testMaterial(t, "heidi@example.net")
	if _, err := c.ImportPeers(ctx, []clients.Peer{{Address: "heidi@example.net", SMIME: []*x509.Certificate{heidi.SMIME.Cert}}}); err != nil {
		t.Fatal(err)
	}
	// Judy's certificate, from a CA the profile does not trust, was stored
	// and then imported by endymail: NSS keeps the nickname, ImportPeers
	// trusts the leaf itself.
	judy := mailLeaf(t, "judy@example.net", untrusted, untrustedKey, now.Add(-time.Hour), now.Add(24*time.Hour), x509.ExtKeyUsageEmailProtection)
	addAsReceived(t, dir, "judy@example.net", judy)
	if _, err := c.ImportPeers(ctx, []clients.Peer{{Address: "judy@example.net", SMIME: []*x509.Certificate{judy}}}); err != nil {
		t.Fatal(err)
	}
	// Kate's came in received mail and verifies with the profile's trust:
	// ImportPeers leaves it as it is.
	kate := good("kate@example.net")
	addAsReceived(t, dir, "kate@example.net", kate)
	kateImport := []clients.Peer{{Address: "kate@example.net", SMIME: []*x509.Certificate{kate}}}
	if r, err := c.ImportPeers(ctx, kateImport); err != nil || r.Changed() {
		t.Errorf("ImportPeers of a received certificate the profile accepts: got %+v, %v; want nothing written", r, err)
	}
	before := profileDigest(t, dir)

	got, err := c.ReceivedCertificates(ctx, "Carol@Example.NET")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0]) != 2 || !got[0][0].Equal(carol) || !got[0][1].Equal(ca) {
		t.Errorf("carol (received, issuer trusted for mail): got %d chains %v; want one, her certificate and the CA", len(got), subjects(got))
	}
	if got, err := c.ReceivedCertificates(ctx, "kate@example.net"); err != nil || len(got) != 1 || !got[0][0].Equal(kate) {
		t.Errorf("kate (received, then offered to ImportPeers): got %v, %v; want her certificate", subjects(got), err)
	}
	for addr, why := range map[string]string{
		"dave@example.net":   "issuer not trusted",
		"erin@example.net":   "expired",
		"frank@example.net":  "no e-mail protection usage",
		"grace@example.net":  "certificate for another address under her name",
		"alice@example.com":  "the profile's own address",
		"ivan@example.net":   "own certificate (private key in the profile)",
		"heidi@example.net":  "endymail's import of a correspondent",
		"nobody@example.net": "nothing there",
	} {
		if got, err := c.ReceivedCertificates(ctx, addr); err != nil || len(got) != 0 {
			t.Errorf("%s (%s): got %v, %v; want none", addr, why, subjects(got), err)
		}
	}
	if after := profileDigest(t, dir); !bytes.Equal(before, after) {
		t.Errorf("the profile changed while ReceivedCertificates read it")
	}
}

// TestReceivedCertificatesCorrupt: a damaged cert9.db is ErrCorrupt.
func TestReceivedCertificatesCorrupt(t *testing.T) {
	dir := startedProfile(t)
	if err := os.WriteFile(filepath.Join(dir, certDB), bytes.Repeat([]byte("not a database "), 300), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := New(Options{Profiles: []string{dir}}).ReceivedCertificates(context.Background(), "carol@example.net")
	if !errors.Is(err, clients.ErrCorrupt) {
		t.Errorf("damaged cert9.db: got %v, %v; want ErrCorrupt", subjects(got), err)
	}
}

func subjects(chains [][]*x509.Certificate) [][]string {
	var out [][]string
	for _, ch := range chains {
		var s []string
		for _, c := range ch {
			s = append(s, c.Subject.String())
		}
		out = append(out, s)
	}
	return out
}

// profileDigest hashes every file of the profile with its name.
func profileDigest(t *testing.T, dir string) []byte {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil // sockets, lock symlinks
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return h.Sum(nil)
}

func TestParseChainNicks(t *testing.T) {
	src, err := os.ReadFile("testdata/certutil-chain.txt")
	if err != nil {
		t.Fatal(err)
	}
	got := parseChainNicks(string(src))
	if want := []string{"Other Org Mail CA", "(null)"}; !slices.Equal(got, want) {
		t.Errorf("parseChainNicks: got %q, want %q", got, want)
	}
}

func FuzzParseChainNicks(f *testing.F) {
	src, _ := os.ReadFile("testdata/certutil-chain.txt")
	f.Add(string(src))
	f.Add(`"a" [CN=a]` + "\n" + `  "b \" [x" [CN=b]`)
	f.Fuzz(func(t *testing.T, out string) {
		for _, n := range parseChainNicks(out) {
			if n == "" || !strings.Contains(out, `"`+n+`" [`) {
				t.Errorf("parseChainNicks gave %q, which is no quoted nickname of the input", n)
			}
		}
	})
}

// TestAddBuiltinRoots: the builtin roots module Thunderbird loads at run
// time is added to the snapshot (its roots then verify public S/MIME
// certificates), never to the profile.
func TestAddBuiltinRoots(t *testing.T) {
	ctx := context.Background()
	dir := startedProfile(t)
	tools, err := findNSS("")
	if err != nil {
		t.Fatal(err)
	}
	install, err := thunderbirdInstall("")
	if err != nil {
		t.Fatal(err)
	}
	before := profileDigest(t, dir)
	snap, err := snapshotNSS(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(snap)
	const root = "Builtin Object Token:HARICA Client RSA Root CA 2021" // trusted for mail in NSS 3.8x and later
	if ok, err := tools.addBuiltinRoots(ctx, snap, install); err != nil || !ok {
		t.Fatalf("addBuiltinRoots: got %v, %v; want the module added", ok, err)
	}
	if ders, err := tools.certsByNick(ctx, snap, root); err != nil || len(ders) != 1 {
		t.Errorf("%s in the snapshot: got %d certificates, %v; want it", root, len(ders), err)
	}
	if ders, _ := tools.certsByNick(ctx, dir, root); len(ders) != 0 {
		t.Errorf("%s is visible in the profile itself: the module was added there", root)
	}
	os.RemoveAll(snap) // the snapshot is a stage folder inside the profile
	if !bytes.Equal(before, profileDigest(t, dir)) {
		t.Errorf("the profile changed")
	}
}
