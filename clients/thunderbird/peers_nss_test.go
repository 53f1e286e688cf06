//go:build linux

package thunderbird

import (
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
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
