//go:build linux

package thunderbird

import (
	"context"
	"crypto/x509"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/endymail/endymail/clients"
)

// TestImportPeerCertAlreadyKnown: Thunderbird keeps the certificates of
// signed mail it received under its own nicknames, and NSS keeps a
// certificate's nickname when it is added again. The import must still see
// the certificate (by its fingerprint), trust it once, and then write
// nothing.
func TestImportPeerCertAlreadyKnown(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tbNSS(t, nil, "certutil", "-N", "-d", "sql:"+dir, "--empty-password")
	m := testMaterial(t, "bob@example.org")
	der := filepath.Join(t.TempDir(), "bob.der")
	os.WriteFile(der, m.SMIME.Cert.Raw, 0o600)
	tbNSS(t, nil, "certutil", "-A", "-d", "sql:"+dir, "-n", "Bob from a signed mail", "-t", ",,", "-i", der)

	c := New(Options{Profiles: []string{dir}})
	peer := []clients.Peer{{Address: "bob@example.org", SMIME: []*x509.Certificate{m.SMIME.Cert, m.SMIME.CA}}}
	r, err := c.ImportPeers(ctx, peer)
	if err != nil || len(r.Actions) != 1 || len(r.Deferred) != 0 {
		t.Fatalf("first import: got %+v, %v; want one action", r, err)
	}
	if r, err := c.ImportPeers(ctx, peer); err != nil || r.Changed() {
		t.Errorf("second import: got %+v, %v; want nothing written", r, err)
	}
	tools, err := findNSS("")
	if err != nil {
		t.Fatal(err)
	}
	trust, err := tools.listing(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	delete(trust, "") // certutil's header line
	if len(trust) != 1 || trust["Bob from a signed mail"] != peerTrust {
		t.Errorf("NSS database after import: %v; want only Bob's certificate, at %s (his CA not imported)", trust, peerTrust)
	}
}

// TestCertBlockTrustMatchesNSS: the trust certBlock reads from the words
// certutil prints is what NSS itself writes in its listing, for every trust
// the real certutil takes here.
func TestCertBlockTrustMatchesNSS(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tbNSS(t, nil, "certutil", "-N", "-d", "sql:"+dir, "--empty-password")
	m := testMaterial(t, "bob@example.org")
	der := filepath.Join(t.TempDir(), "bob.der")
	os.WriteFile(der, m.SMIME.Cert.Raw, 0o600)
	tools, err := findNSS("")
	if err != nil {
		t.Fatal(err)
	}
	for _, trust := range []string{",,", ",C,", ",c,", "P,C,c", "p,p,p", "CT,p,P", "C,C,C", ",P,"} {
		tbNSS(t, nil, "certutil", "-A", "-d", "sql:"+dir, "-n", "bob", "-t", trust, "-i", der)
		listing, err := tools.listing(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		got, present, err := tools.mailTrust(ctx, dir, "bob@example.org", m.SMIME.Cert)
		if err != nil || !present || got != strings.TrimSpace(listing["bob"]) {
			t.Errorf("trust set as %q: certBlock read %q (present %v, %v), NSS lists %q", trust, got, present, err, listing["bob"])
		}
	}
}

// TestRevertPeersSMIME: a certificate the import added is deleted, one
// that was there (from a signed mail, untrusted) gets its trust back, and
// the database lists what it listed before; a second revert does nothing.
func TestRevertPeersSMIME(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tbNSS(t, nil, "certutil", "-N", "-d", "sql:"+dir, "--empty-password")
	bob, carol := testMaterial(t, "bob@example.org"), testMaterial(t, "carol@example.net")
	der := filepath.Join(t.TempDir(), "bob.der")
	os.WriteFile(der, bob.SMIME.Cert.Raw, 0o600)
	tbNSS(t, nil, "certutil", "-A", "-d", "sql:"+dir, "-n", "Bob from a signed mail", "-t", "P,,", "-i", der)
	before := nssListing(t, dir)

	peers := []clients.Peer{
		{Address: "bob@example.org", SMIME: []*x509.Certificate{bob.SMIME.Cert, bob.SMIME.CA}},
		{Address: "carol@example.net", SMIME: []*x509.Certificate{carol.SMIME.Cert, carol.SMIME.CA}},
	}
	if r, err := New(Options{Profiles: []string{dir}}).ImportPeers(ctx, peers); err != nil || len(r.Actions) != 2 {
		t.Fatalf("ImportPeers: got %+v, %v; want two actions", r, err)
	}
	if got := nssListing(t, dir); got["Bob from a signed mail"] != peerTrust || got[peerNick("carol@example.net", carol.SMIME.Cert.Raw)] != peerTrust {
		t.Fatalf("after import: got %v, want both at %s", got, peerTrust)
	}
	c := New(Options{Profiles: []string{dir}})
	r, err := c.RevertPeers(ctx)
	if err != nil || !r.Changed() || len(r.Warnings) != 0 {
		t.Fatalf("RevertPeers: got %+v, %v; want actions, no warning", r, err)
	}
	if got := nssListing(t, dir); !maps.Equal(got, before) {
		t.Errorf("after revert: got %v, want %v", got, before)
	}
	if r, err := c.RevertPeers(ctx); err != nil || r.Changed() {
		t.Errorf("second RevertPeers: got %+v, %v; want nothing", r, err)
	}
}

// TestRevertPeersRotatedCertificate: NSS files a peer's new certificate
// under the nickname of the old one (same subject); the revert removes
// both.
func TestRevertPeersRotatedCertificate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tbNSS(t, nil, "certutil", "-N", "-d", "sql:"+dir, "--empty-password")
	ca, caKey := testCA(t)
	old, cur := testMaterialFrom(t, "carol@example.net", ca, caKey), testMaterialFrom(t, "carol@example.net", ca, caKey)
	c := New(Options{Profiles: []string{dir}})
	for _, m := range []clients.Material{old, cur} {
		if _, err := c.ImportPeers(ctx, []clients.Peer{{Address: m.Address, SMIME: []*x509.Certificate{m.SMIME.Cert}}}); err != nil {
			t.Fatal(err)
		}
	}
	nick := peerNick("carol@example.net", old.SMIME.Cert.Raw)
	if got := tbNSS(t, nil, "certutil", "-L", "-d", "sql:"+dir, "-n", nick, "-a"); strings.Count(got, "BEGIN CERTIFICATE") != 2 {
		t.Fatalf("NSS holds %d certificates under %q, want both", strings.Count(got, "BEGIN CERTIFICATE"), nick)
	}
	if r, err := c.RevertPeers(ctx); err != nil || len(r.Warnings) != 0 {
		t.Fatalf("RevertPeers: got %+v, %v", r, err)
	}
	if got := nssListing(t, dir); len(got) != 0 {
		t.Errorf("after revert: got %v, want an empty database", got)
	}
}
