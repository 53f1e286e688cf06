//go:build linux

package thunderbird

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/endymail/endymail/clients/thunderbird/nsslib"
	"github.com/endymail/endymail/clients/thunderbird/tbtest"
	"github.com/endymail/endymail/internal/interop"
)

// The configurator's own tests again with the nsslib backend forced, so
// that a plain `go test` proves the S/MIME path through Thunderbird's
// library too (ENDYMAIL_NSS_BACKEND=lib runs every test that way).

// withLibBackend forces the nsslib backend for the rest of t.
func withLibBackend(t *testing.T) {
	t.Helper()
	interop.NeedFile(t, filepath.Join(tbtest.NSSLibDir, nsslib.LibraryFile), "thunderbird")
	old := nssBackend
	nssBackend = "lib"
	t.Cleanup(func() { nssBackend = old })
}

func TestConformanceLibBackend(t *testing.T) {
	withLibBackend(t)
	TestConformance(t)
}

func TestCorruptNSSDatabaseLibBackend(t *testing.T) {
	withLibBackend(t)
	TestCorruptNSSDatabase(t)
}

func TestCorruptPassphraseFileLibBackend(t *testing.T) {
	withLibBackend(t)
	TestCorruptPassphraseFile(t)
}

func TestImportPeerCertLibBackend(t *testing.T) {
	withLibBackend(t)
	TestImportPeerCertAlreadyKnown(t)
}

// TestWrongPKCS12PasswordLibBackend: the PKCS#12 refused by NSS stops the
// profile's Apply with NSS's reason, and no file of the profile changes.
func TestWrongPKCS12PasswordLibBackend(t *testing.T) {
	withLibBackend(t)
	dir := startedProfile(t)
	m := testMaterial(t, testAddress)
	m.SMIME.Password = "not the password"
	before := treeState(t, dir)
	_, err := New(Options{Profiles: []string{dir}}).Apply(context.Background(), m)
	if err == nil || !strings.Contains(err.Error(), "SEC_ERROR_") || !strings.Contains(err.Error(), "PKCS#12") {
		t.Errorf("Apply with a wrong PKCS#12 password: got %v, want NSS's PKCS#12 error", err)
	}
	t.Logf("Apply: %v", err)
	sameTree(t, "failed Apply", before, treeState(t, dir))
}

func TestReceivedCertificatesLibBackend(t *testing.T) {
	withLibBackend(t)
	TestReceivedCertificatesNSS(t)
}

func TestReceivedCertificatesCorruptLibBackend(t *testing.T) {
	withLibBackend(t)
	TestReceivedCertificatesCorrupt(t)
}

func TestAddBuiltinRootsLibBackend(t *testing.T) {
	withLibBackend(t)
	TestAddBuiltinRoots(t)
}

func TestRevertPeersSMIMELibBackend(t *testing.T) {
	withLibBackend(t)
	TestRevertPeersSMIME(t)
}

func TestRevertPeersRotatedCertificateLibBackend(t *testing.T) {
	withLibBackend(t)
	TestRevertPeersRotatedCertificate(t)
}
