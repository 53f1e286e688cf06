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

// TestLibBackend runs the NSS-touching tests of the configurator again
// with the library backend.
func TestLibBackend(t *testing.T) {
	for _, tt := range []struct {
		name string
		test func(*testing.T)
	}{
		{"Conformance", TestConformance},
		{"CorruptNSSDatabase", TestCorruptNSSDatabase},
		{"CorruptPassphraseFile", TestCorruptPassphraseFile},
		{"ImportPeerCertAlreadyKnown", TestImportPeerCertAlreadyKnown},
		{"ReceivedCertificatesNSS", TestReceivedCertificatesNSS},
		{"ReceivedCertificatesCorrupt", TestReceivedCertificatesCorrupt},
		{"AddBuiltinRoots", TestAddBuiltinRoots},
		{"RevertPeersSMIME", TestRevertPeersSMIME},
		{"RevertPeersRotatedCertificate", TestRevertPeersRotatedCertificate},
	} {
		t.Run(tt.name, func(t *testing.T) {
			withLibBackend(t)
			tt.test(t)
		})
	}
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
