package wincfg

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/endymail/endymail/internal/fixture"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/clients/clienttest"
	"github.com/endymail/endymail/clients/windows/certstore"
	"github.com/endymail/endymail/clients/windows/outlook"
	"github.com/endymail/endymail/clients/windows/winmail"
	"github.com/endymail/endymail/clients/windows/winreg"
	"github.com/endymail/endymail/clients/windows/wlmail"
)

// fakeStore is a hand-written winmail.CertStore that really decodes the
// PKCS#12; its key check fails for certificates that are not in My.
type fakeStore struct {
	mu      sync.Mutex
	stores  map[certstore.Store]map[certstore.Thumbprint]bool
	imports int
	refuse  certstore.Store // Delete from this store fails, as when the user answers No
}

var _ winmail.CertStore = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{stores: map[certstore.Store]map[certstore.Thumbprint]bool{}}
}

func (f *fakeStore) put(s certstore.Store, t certstore.Thumbprint) {
	if f.stores[s] == nil {
		f.stores[s] = map[certstore.Thumbprint]bool{}
	}
	f.stores[s][t] = true
}

func (f *fakeStore) ImportPFX(pfx []byte, password string) (certstore.Thumbprint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, leaf, _, err := pkcs12.DecodeChain(pfx, password)
	if err != nil {
		return certstore.Thumbprint{}, err
	}
	t := certstore.ThumbprintOf(leaf)
	f.put(certstore.My, t)
	f.imports++
	return t, nil
}

func (f *fakeStore) TrustCA(ca *x509.Certificate) (certstore.Store, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.put(certstore.Root, certstore.ThumbprintOf(ca))
	return certstore.Root, nil
}

func (f *fakeStore) Delete(s certstore.Store, t certstore.Thumbprint) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s == f.refuse {
		return errors.New("the operation was canceled by the user")
	}
	delete(f.stores[s], t)
	return nil
}

func (f *fakeStore) has(s certstore.Store, t certstore.Thumbprint) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stores[s][t]
}

func (f *fakeStore) checkKey(t certstore.Thumbprint) error {
	if !f.has(certstore.My, t) {
		return certstore.ErrNotFound
	}
	return nil
}

const (
	officeProfiles = `Software\Microsoft\Office\16.0\Outlook\Profiles`
	accountsKey    = `9375CFF0413111d3B88A00104B2A6676`
	aliceProfile   = officeProfiles + `\Outlook`
	bobProfile     = officeProfiles + `\Bob`
	alice          = "alice@example.com"
)

// env is one fake Windows user: Outlook profiles for alice (holding a
// security setting someone else made) and bob, 64-bit Office, and a
// Windows Live Mail store with alice's account file.
type env struct {
	user, machine *winreg.Memory
	store         *fakeStore
	local         string // %LOCALAPPDATA%
	wlmFile       string
	stateDir      string
	running       []string
	ca            *x509.Certificate
	caKey         *ecdsa.PrivateKey
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{user: winreg.NewMemory(), machine: winreg.NewMemory(), store: newFakeStore(),
		local: tempDir(t), stateDir: filepath.Join(tempDir(t), "clients", "windows")}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.user.Set(aliceProfile+`\`+accountsKey+`\00000002`, "Email", winreg.BinaryValue(utf16z("Alice@Example.com"))))
	must(e.user.Set(aliceProfile+`\`+outlook.SecurityKey, outlook.SettingsValue, winreg.BinaryValue(readHex(t, "testdata/outlook-settings-x64.hex"))))
	must(e.user.Set(bobProfile+`\`+accountsKey+`\00000001`, "Email", winreg.StringValue("bob@example.com")))
	must(e.machine.Set(`Software\Microsoft\Office\16.0\Outlook`, "Bitness", winreg.StringValue("x64")))
	must(e.user.Set(`Software\Microsoft\Windows Live Mail`, "Store Root",
		winreg.ExpandStringValue("%LOCALAPPDATA%"+string(filepath.Separator)+"Windows Live Mail")))
	e.wlmFile = filepath.Join(e.local, "Windows Live Mail", "alice", "account{alice}.oeaccount")
	b, err := os.ReadFile("testdata/account{alice}.oeaccount")
	must(err)
	must(os.MkdirAll(filepath.Dir(e.wlmFile), 0o755))
	must(os.WriteFile(e.wlmFile, b, 0o644))
	e.caKey, e.ca = newCA(t)
	return e
}

func (e *env) configurator() *Configurator {
	getenv := func(k string) string {
		if k == "LOCALAPPDATA" {
			return e.local
		}
		return ""
	}
	return New(Options{
		StateDir: e.stateDir,
		Open: func() (*winmail.System, error) {
			return &winmail.System{Store: e.store, User: e.user, Machine: e.machine, Getenv: getenv}, nil
		},
		Processes: func() ([]string, error) { return append([]string{"System", "explorer.exe"}, e.running...), nil },
		CheckKey:  e.store.checkKey,
	})
}

// snapshot is everything the configurator may touch.
func (e *env) snapshot(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, p := range []string{aliceProfile, bobProfile} {
		for _, name := range []string{outlook.SettingsValue, outlook.DefaultsValue} {
			v, err := e.user.Get(p+`\`+outlook.SecurityKey, name)
			if err == nil {
				out["HKCU\\"+p+"\\"+name] = []byte(fmt.Sprintf("%v:%x", v.Kind, v.Bin))
			}
		}
	}
	b, err := os.ReadFile(e.wlmFile)
	if err != nil {
		t.Fatal(err)
	}
	out[e.wlmFile] = b
	e.store.mu.Lock()
	for s, m := range e.store.stores {
		for tp := range m {
			out["store "+string(s)+" "+tp.String()] = nil
		}
	}
	e.store.mu.Unlock()
	files, _ := filepath.Glob(filepath.Join(e.stateDir, "*"))
	for _, f := range files {
		if filepath.Base(f) == "endymail.lock" { // empty, never read
			continue
		}
		b, _ := os.ReadFile(f)
		out[f] = b
	}
	return out
}

// check verifies that every client of alice points at m's certificate.
func (e *env) check(t testing.TB, m clients.Material) {
	t.Helper()
	want := certstore.ThumbprintOf(m.SMIME.Cert)
	if !e.store.has(certstore.My, want) || !e.store.has(certstore.Root, certstore.ThumbprintOf(m.SMIME.CA)) {
		t.Errorf("store: certificate in My %v, CA in Root %v; want both", e.store.has(certstore.My, want), e.store.has(certstore.Root, certstore.ThumbprintOf(m.SMIME.CA)))
	}
	got, err := outlookSigning(e.user, outlook.Profile{Key: aliceProfile, Name: "Outlook", Version: "16.0"})
	if err != nil || got != want {
		t.Errorf("outlook default setting signs with %s (%v), want %s", got, err, want)
	}
	b, _ := os.ReadFile(e.wlmFile)
	acct, err := wlmail.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, el := range []string{wlmail.SigningElement, wlmail.EncryptionElement} {
		if v, _ := acct.Value(el); !strings.EqualFold(v, want.String()) {
			t.Errorf("%s: got %q, want %s", el, v, want)
		}
	}
}

func (e *env) fixture() clienttest.Fixture {
	return clienttest.Fixture{
		Material: e.material(nil, alice),
		Snapshot: e.snapshot,
		Run: func(testing.TB) func() {
			e.running = []string{"OUTLOOK.EXE"}
			return func() { e.running = nil }
		},
		Corrupt: func(t testing.TB) {
			if err := e.user.Set(aliceProfile+`\`+outlook.SecurityKey, outlook.SettingsValue, winreg.BinaryValue([]byte{1, 2, 3})); err != nil {
				t.Fatal(err)
			}
		},
		Check: e.check,
	}
}

func TestConformance(t *testing.T) {
	clienttest.Run(t, func(t *testing.T) (clients.Configurator, clienttest.Fixture) {
		e := newEnv(t)
		return e.configurator(), e.fixture()
	})
}

// material makes S/MIME material for addr under the env's CA; a nil key
// makes a new one.
func (e *env) material(t testing.TB, addr string) clients.Material {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	now := time.Now()
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: addr},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), EmailAddresses: []string{addr},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, e.ca, &key.PublicKey, e.caKey)
	if err != nil {
		panic(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pfx, err := pkcs12.Modern.Encode(key, leaf, []*x509.Certificate{e.ca}, "pw")
	if err != nil {
		panic(err)
	}
	return clients.Material{Address: addr, Prefer: clients.PreferSMIME,
		SMIME: &clients.SMIME{PKCS12: pfx, Password: "pw", Cert: leaf, Chain: []*x509.Certificate{e.ca}, CA: e.ca}}
}

func newCA(t testing.TB) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "endymail test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	return key, ca
}

func utf16z(s string) []byte {
	var b []byte
	for _, c := range utf16.Encode([]rune(s + "\x00")) {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return b
}

// readHex reads a hex fixture (see fixture.Hex).
func readHex(t testing.TB, name string) []byte { return fixture.Hex(t, name) }

var ctx = context.Background()

// tempDir is t.TempDir for this package's tests, which also run as a
// Windows binary under Wine: Go's os.RemoveAll on Windows deletes with
// FILE_DISPOSITION_INFORMATION_EX, which Wine 8 answers with "invalid
// function", while os.Remove (DeleteFileW) works there.
func tempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "wincfg-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var paths []string
		filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
			paths = append(paths, p)
			return nil
		})
		for i := len(paths) - 1; i >= 0; i-- {
			if err := os.Remove(paths[i]); err != nil {
				t.Errorf("clean up: %v", err)
			}
		}
	})
	return dir
}
