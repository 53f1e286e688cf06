package winmail

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
	"unicode/utf16"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/endymail/endymail/clients/windows/certstore"
	"github.com/endymail/endymail/clients/windows/outlook"
	"github.com/endymail/endymail/clients/windows/winreg"
	"github.com/endymail/endymail/clients/windows/wlmail"
)

// fakeStore is a hand-written CertStore: it really decodes the PKCS#12.
type fakeStore struct {
	stores  map[certstore.Store]map[certstore.Thumbprint]bool
	decline bool
}

var _ CertStore = (*fakeStore)(nil)

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
	_, leaf, _, err := pkcs12.DecodeChain(pfx, password)
	if err != nil {
		return certstore.Thumbprint{}, err
	}
	t := certstore.ThumbprintOf(leaf)
	f.put(certstore.My, t)
	return t, nil
}

func (f *fakeStore) TrustCA(ca *x509.Certificate) (certstore.Store, error) {
	if f.decline {
		f.put(certstore.CA, certstore.ThumbprintOf(ca))
		return certstore.CA, certstore.ErrTrustDeclined
	}
	f.put(certstore.Root, certstore.ThumbprintOf(ca))
	return certstore.Root, nil
}

func (f *fakeStore) Delete(s certstore.Store, t certstore.Thumbprint) error {
	delete(f.stores[s], t)
	return nil
}

func testPKI(t *testing.T, addr string) (*x509.Certificate, *x509.Certificate, []byte) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CA"},
		NotBefore: now, NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caT, caT, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafT := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: addr},
		NotBefore: now, NotAfter: now.Add(time.Hour), EmailAddresses: []string{addr},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafT, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	pfx, err := pkcs12.Modern.Encode(key, leaf, []*x509.Certificate{ca}, "pw")
	if err != nil {
		t.Fatal(err)
	}
	return ca, leaf, pfx
}

func utf16z(s string) []byte {
	var b []byte
	for _, c := range utf16.Encode([]rune(s + "\x00")) {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return b
}

const (
	profiles = `Software\Microsoft\Office\16.0\Outlook\Profiles`
	accounts = `9375CFF0413111d3B88A00104B2A6676`
)

// testSystem has an Outlook profile for alice and one for bob, 32-bit
// Office, and a Windows Live Mail account for alice.
func testSystem(t *testing.T) (sys *System, wlmFile string) {
	t.Helper()
	user, machine := winreg.NewMemory(), winreg.NewMemory()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(user.Set(profiles+`\Outlook\`+accounts+`\00000002`, "Email", winreg.BinaryValue(utf16z("alice@example.org"))))
	must(user.Set(profiles+`\Other\`+accounts+`\00000002`, "Email", winreg.BinaryValue(utf16z("bob@example.org"))))
	must(machine.Set(`Software\Microsoft\Office\16.0\Outlook`, "Bitness", winreg.StringValue("x86")))
	local := t.TempDir()
	// Getenv maps %LOCALAPPDATA% to the temporary folder of this test.
	must(user.Set(`Software\Microsoft\Windows Live Mail`, "Store Root", winreg.ExpandStringValue("%LOCALAPPDATA%"+string(filepath.Separator)+"WLM")))
	wlmFile = filepath.Join(local, "WLM", "acct", "account{A}.oeaccount")
	must(os.MkdirAll(filepath.Dir(wlmFile), 0o755))
	doc := "<?xml version=\"1.0\" encoding=\"utf-16\"?>\r\n<MessageAccount>\r\n\t<Account_Name type=\"SZ\">Alice</Account_Name>\r\n\t<SMTP_Email_Address type=\"SZ\">ALICE@example.org</SMTP_Email_Address>\r\n</MessageAccount>\r\n"
	b := []byte{0xff, 0xfe}
	for _, c := range utf16.Encode([]rune(doc)) {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	must(os.WriteFile(wlmFile, b, 0o644))
	getenv := func(k string) string {
		if k == "LOCALAPPDATA" {
			return local
		}
		return ""
	}
	return &System{Store: newFakeStore(), User: user, Machine: machine, Getenv: getenv}, wlmFile
}

func TestIdentities(t *testing.T) {
	sys, _ := testSystem(t)
	got, err := sys.Identities()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"alice@example.org", "bob@example.org"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Identities: got %q, want %q", got, want)
	}
}

func TestApplyRevert(t *testing.T) {
	sys, wlmFile := testSystem(t)
	store := sys.Store.(*fakeStore)
	origWLM, _ := os.ReadFile(wlmFile)
	ca, leaf, pfx := testPKI(t, "alice@example.org")
	tp := certstore.ThumbprintOf(leaf)

	u, err := sys.Apply("alice@example.org", pfx, "pw", ca, Options{SignByDefault: true})
	if err != nil {
		t.Fatal(err)
	}
	if u.Thumbprint != tp || !store.stores[certstore.My][tp] || !u.CATrusted() {
		t.Fatalf("Apply: thumbprint %s, in My %v, CA trusted %v", u.Thumbprint, store.stores[certstore.My][tp], u.CATrusted())
	}
	key := profiles + `\Outlook\` + outlook.SecurityKey
	v, err := sys.User.Get(key, outlook.SettingsValue)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := outlook.DecodeSettings(v.Bin)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := ss.Settings[0].SigningCert(); ss.Layout != outlook.Layout32 || s != tp {
		t.Errorf("Outlook: layout %d signs with %s, want 32-bit and %s", ss.Layout, s, tp)
	}
	if _, err := sys.User.Get(profiles+`\Other\`+outlook.SecurityKey, outlook.SettingsValue); !errors.Is(err, winreg.ErrNotExist) {
		t.Errorf("bob's profile was changed: %v", err)
	}
	b, _ := os.ReadFile(wlmFile)
	acct, err := wlmail.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, elem := range []string{wlmail.SigningElement, wlmail.EncryptionElement} {
		if got, _ := acct.Value(elem); got == "" || tp.String() != upper(got) {
			t.Errorf("WLM %s: got %q, want %s", elem, got, tp)
		}
	}

	// A second Apply changes nothing; the agent merges and persists undos.
	u2, err := sys.Apply("alice@example.org", pfx, "pw", ca, Options{SignByDefault: true})
	if err != nil || len(u2.Registry)+len(u2.WLMail) != 0 {
		t.Fatalf("second Apply: %d registry and %d file changes, %v", len(u2.Registry), len(u2.WLMail), err)
	}
	u.Merge(u2)
	raw, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	var back Undo
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}

	if err := sys.Revert(&back); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.User.Get(key, outlook.SettingsValue); !errors.Is(err, winreg.ErrNotExist) {
		t.Errorf("Outlook settings still there after Revert: %v", err)
	}
	if b, _ := os.ReadFile(wlmFile); !bytes.Equal(b, origWLM) {
		t.Errorf("WLM account file differs after Revert")
	}
	if store.stores[certstore.My][tp] {
		t.Errorf("certificate still in My after Revert")
	}
	if !store.stores[certstore.Root][*back.CA] {
		t.Errorf("Revert removed the personal CA")
	}
	if err := sys.RemoveCA(&back); err != nil || store.stores[certstore.Root][*back.CA] {
		t.Errorf("RemoveCA: %v, still trusted %v", err, store.stores[certstore.Root][*back.CA])
	}
}

func upper(s string) string {
	tp, err := certstore.ParseThumbprint(s)
	if err != nil {
		return s
	}
	return tp.String()
}

func TestApplyDeclinedCA(t *testing.T) {
	sys, _ := testSystem(t)
	sys.Store.(*fakeStore).decline = true
	ca, _, pfx := testPKI(t, "bob@example.org")
	u, err := sys.Apply("bob@example.org", pfx, "pw", ca, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if u.CATrusted() || u.CAStore != certstore.CA {
		t.Errorf("declined CA: trusted %v in %q, want the CA store", u.CATrusted(), u.CAStore)
	}
}

func TestApplyNoClient(t *testing.T) {
	sys, _ := testSystem(t)
	ca, _, pfx := testPKI(t, "carol@example.org")
	u, err := sys.Apply("carol@example.org", pfx, "pw", ca, Options{})
	if !errors.Is(err, ErrNoClient) {
		t.Fatalf("got %v, want ErrNoClient", err)
	}
	if err := sys.Revert(u); err != nil {
		t.Errorf("Revert after ErrNoClient: %v", err)
	}
}

func TestApplyBadPassword(t *testing.T) {
	sys, _ := testSystem(t)
	ca, _, pfx := testPKI(t, "alice@example.org")
	if _, err := sys.Apply("alice@example.org", pfx, "wrong", ca, Options{}); err == nil {
		t.Fatal("Apply with the wrong password: got nil error")
	}
}
