package winetest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/endymail/endymail/clients/windows/certstore"
	"github.com/endymail/endymail/clients/windows/outlook"
	"github.com/endymail/endymail/clients/windows/wlmail"
	"github.com/endymail/endymail/internal/interop"
)

var build struct {
	dir   string
	once  sync.Once
	probe string
}

func TestMain(m *testing.M) {
	var err error
	if build.dir, err = os.MkdirTemp("", "endymail-winbuild-"); err != nil {
		panic(err)
	}
	code := m.Run()
	Cleanup()
	os.RemoveAll(build.dir)
	os.Exit(code)
}

// probe returns the cross-built probe program, building it once.
func probe(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		out := filepath.Join(build.dir, "probe.exe")
		BuildWindows(t, "./probe", out, false)
		build.probe = out
	})
	if build.probe == "" {
		t.Fatal("probe build failed earlier")
	}
	return build.probe
}

// testPKI makes a personal CA (ECDSA P-256) and an S/MIME leaf (RSA) for
// addr, and the leaf's PKCS#12 (go-pkcs12 Modern, with the chain).
func testPKI(t *testing.T, addr, password string) (ca, leaf *x509.Certificate, pfx []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "endymail test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Test User"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		EmailAddresses: []string{addr},
		KeyUsage:       x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ = x509.ParseCertificate(leafDER)
	pfx, err = pkcs12.Modern.Encode(key, leaf, []*x509.Certificate{ca}, password)
	if err != nil {
		t.Fatal(err)
	}
	return ca, leaf, pfx
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustRun(t *testing.T, p *Prefix, exe string, args ...string) string {
	t.Helper()
	out, err := p.Run(t, exe, args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

func TestCertStore(t *testing.T) {
	p := Shared(t)
	exe := probe(t)
	dir := t.TempDir()
	ca, leaf, pfx := testPKI(t, "alice@example.org", "correct horse")
	pfxPath := writeFile(t, dir, "alice.p12", pfx)
	caPath := writeFile(t, dir, "ca.der", ca.Raw)
	want := certstore.ThumbprintOf(leaf).String()

	if got := mustRun(t, p, exe, "import", WinPath(pfxPath), "correct horse"); got != want {
		t.Fatalf("import: got thumbprint %q, want %q", got, want)
	}
	reg, err := p.Reg(t, "query", `HKCU\Software\Microsoft\SystemCertificates\My\Certificates`)
	if err != nil || !strings.Contains(reg, want) {
		t.Fatalf("reg query My\\Certificates: %v; want a key named %s in\n%s", err, want, reg)
	}
	if got := mustRun(t, p, exe, "find", "MY", want); got != "Test User" {
		t.Errorf("find: got %q, want the leaf's common name", got)
	}
	if _, err := p.Run(t, exe, "import", WinPath(pfxPath), "wrong password"); err == nil {
		t.Errorf("import with the wrong password: got no error")
	}
	if _, err := p.Run(t, exe, "checkkey", want); err != nil {
		t.Errorf("checkkey: %v", err)
	}
	// Importing again (the agent re-applies) keeps a usable key.
	if got := mustRun(t, p, exe, "import", WinPath(pfxPath), "correct horse"); got != want {
		t.Errorf("second import: got thumbprint %q, want %q", got, want)
	}
	if _, err := p.Run(t, exe, "checkkey", want); err != nil {
		t.Errorf("checkkey after second import: %v", err)
	}

	caThumb := certstore.ThumbprintOf(ca).String()
	if got := mustRun(t, p, exe, "trustca", WinPath(caPath)); got != string(certstore.Root) {
		t.Errorf("trustca: got store %q, want Root (Wine shows no dialog)", got)
	}
	reg, err = p.Reg(t, "query", `HKCU\Software\Microsoft\SystemCertificates\Root\Certificates`)
	if err != nil || !strings.Contains(reg, caThumb) {
		t.Errorf("reg query Root\\Certificates: %v; want a key named %s", err, caThumb)
	}

	mustRun(t, p, exe, "delete", "MY", want)
	// Wine keeps a deleted certificate in the store (TESTING.md), so the
	// proof of the delete here is that its private key is gone.
	if _, err := p.Run(t, exe, "checkkey", want); err == nil {
		t.Errorf("checkkey after delete: the private key is still usable")
	}
	mustRun(t, p, exe, "delete", "MY", want) // deleting twice succeeds
}

func TestRunKey(t *testing.T) {
	p := Shared(t)
	exe := probe(t)
	const key = `HKCU\Software\Microsoft\Windows\CurrentVersion\Run`
	mustRun(t, p, exe, "runkey-set", "endymail-test", `C:\Program Files\endymail\endymail.exe`, "agent", "run")
	out, err := p.Reg(t, "query", key, "/v", "endymail-test")
	want := `"C:\Program Files\endymail\endymail.exe" agent run`
	if err != nil || !strings.Contains(out, "REG_SZ") || !strings.Contains(out, want) {
		t.Fatalf("reg query: %v; want REG_SZ %s in\n%s", err, want, out)
	}
	mustRun(t, p, exe, "runkey-remove", "endymail-test")
	if out, err := p.Reg(t, "query", key, "/v", "endymail-test"); err == nil {
		t.Errorf("value still there after remove:\n%s", out)
	}
}

// regBinary reads a REG_BINARY value with reg.exe.
func regBinary(t *testing.T, p *Prefix, key, name string) ([]byte, bool) {
	t.Helper()
	out, err := p.Reg(t, "query", key, "/v", name)
	if err != nil {
		return nil, false
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == name && f[1] == "REG_BINARY" {
			if len(f) == 2 {
				return []byte{}, true
			}
			b, err := hex.DecodeString(f[2])
			if err != nil {
				t.Fatalf("reg query %s: %v", name, err)
			}
			return b, true
		}
	}
	t.Fatalf("reg query %s: no REG_BINARY line in\n%s", name, out)
	return nil, false
}

func TestOutlookProfile(t *testing.T) {
	p := Shared(t)
	exe := probe(t)
	key := `HKCU\Software\Microsoft\Office\16.0\Outlook\Profiles\Outlook\` + outlook.SecurityKey
	old, _ := certstore.ParseThumbprint("0123456789abcdef0123456789abcdef01234567")
	theirs, err := outlook.NewSetting("Company", old, old)
	if err != nil {
		t.Fatal(err)
	}
	orig, err := (&outlook.SecuritySettings{Layout: outlook.Layout32, Settings: []*outlook.Setting{theirs}}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Reg(t, "add", key, "/v", outlook.SettingsValue, "/t", "REG_BINARY", "/d", hex.EncodeToString(orig), "/f"); err != nil {
		t.Fatal(err)
	}
	const sign, enc = "A94A8FE5CCB19BA61C4C0873D391E987982FBBD3", "00112233445566778899AABBCCDDEEFF00112233"
	journal := filepath.Join(t.TempDir(), "journal.json")
	mustRun(t, p, exe, "outlook-apply", WinPath(journal), sign, enc)

	b, _ := regBinary(t, p, key, outlook.SettingsValue)
	ss, err := outlook.DecodeSettings(b)
	if err != nil {
		t.Fatal(err)
	}
	if ss.Layout != outlook.Layout32 || len(ss.Settings) != 2 {
		t.Fatalf("after apply: layout %d with %d settings, want 32-bit with 2", ss.Layout, len(ss.Settings))
	}
	ours := ss.Settings[1]
	gs, _ := ours.SigningCert()
	ge, _ := ours.EncryptionCert()
	if ours.Name() != "endymail" || gs.String() != sign || ge.String() != enc {
		t.Errorf("our setting: %q signs with %s, encrypts with %s", ours.Name(), gs, ge)
	}
	if d, ok := regBinary(t, p, key, outlook.DefaultsValue); !ok || !bytes.Equal(d, []byte{2, 0, 0, 0}) {
		t.Errorf("%s: got %x, want 02000000", outlook.DefaultsValue, d)
	}

	mustRun(t, p, exe, "restore", WinPath(journal))
	if b, _ := regBinary(t, p, key, outlook.SettingsValue); !bytes.Equal(b, orig) {
		t.Errorf("after restore: got %x, want %x", b, orig)
	}
	if d, ok := regBinary(t, p, key, outlook.DefaultsValue); ok {
		t.Errorf("%s still there after restore: %x", outlook.DefaultsValue, d)
	}
}

func TestWindowsLiveMail(t *testing.T) {
	p := Shared(t)
	exe := probe(t)
	local, err := filepath.Glob(filepath.Join(p.Dir, "drive_c", "users", "*", "AppData", "Local"))
	if err != nil || len(local) == 0 {
		t.Fatalf("no AppData\\Local in the prefix: %v", err)
	}
	var userLocal string
	for _, l := range local {
		if !strings.Contains(l, string(filepath.Separator)+"Public"+string(filepath.Separator)) {
			userLocal = l
		}
	}
	acctFile := filepath.Join(userLocal, "Microsoft", "Windows Live Mail", "donhallimap", "account{donhallimap}.oeaccount")
	orig, err := os.ReadFile("../../clients/windows/wlmail/testdata/account{donhallimap}.oeaccount")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(acctFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(acctFile, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Reg(t, "add", `HKCU\Software\Microsoft\Windows Live Mail`, "/v", "Store Root", "/t", "REG_EXPAND_SZ",
		"/d", `%LOCALAPPDATA%\Microsoft\Windows Live Mail`, "/f"); err != nil {
		t.Fatal(err)
	}
	const sign, enc = "A94A8FE5CCB19BA61C4C0873D391E987982FBBD3", "00112233445566778899AABBCCDDEEFF00112233"
	changes := filepath.Join(t.TempDir(), "changes.json")
	root := mustRun(t, p, exe, "wlmail-apply", WinPath(changes), "don@wingtiptoys.com", sign, enc)
	if !strings.HasSuffix(root, `\AppData\Local\Microsoft\Windows Live Mail`) || strings.Contains(root, "%") {
		t.Errorf("store root: got %q, want the expanded %%LOCALAPPDATA%% path", root)
	}
	b, err := os.ReadFile(acctFile)
	if err != nil {
		t.Fatal(err)
	}
	acct, err := wlmail.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	for elem, want := range map[string]string{wlmail.SigningElement: sign, wlmail.EncryptionElement: enc} {
		if got, _ := acct.Value(elem); !strings.EqualFold(got, want) {
			t.Errorf("%s: got %q, want %s", elem, got, want)
		}
	}
	mustRun(t, p, exe, "wlmail-revert", WinPath(changes))
	if b, _ := os.ReadFile(acctFile); !bytes.Equal(b, orig) {
		t.Errorf("after revert the account file differs from the original")
	}
}

// TestWindowsPackageTests runs the Windows-only tests of the client
// packages (real registry, DPAPI) as Windows test binaries.
func TestWindowsPackageTests(t *testing.T) {
	p := Shared(t)
	for _, pkg := range []string{"clients/windows/winreg", "internal/dpapi"} {
		t.Run(pkg, func(t *testing.T) {
			exe := filepath.Join(build.dir, filepath.Base(pkg)+".test.exe")
			BuildWindows(t, "github.com/endymail/endymail/"+pkg, exe, true)
			out, err := p.Run(t, exe, "-test.v", "-test.count=1")
			if err != nil || !strings.Contains(out, "PASS") {
				t.Fatalf("%s tests under Wine: %v\n%s", pkg, err, out)
			}
			t.Logf("%s", out)
		})
	}
}

// TestApprovalPrompt shows the agent's Yes/No box on a virtual display and
// presses a button in it from a second Windows program.
func TestApprovalPrompt(t *testing.T) {
	p := Shared(t)
	exe := probe(t)
	xvfb := interop.Need(t, "xvfb-run", "xvfb")
	for _, answer := range []string{"yes", "no"} {
		t.Run(answer, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			title := "endymail test " + answer
			script := `"$WINE" "$PROBE" ask "$TITLE" "Device 'laptop' wants to use your mail keys. Approve?" & ask=$!
"$WINE" "$PROBE" answer "$TITLE" "$ANSWER" || { kill $ask; exit 1; }
wait $ask`
			cmd := p.Cmd(ctx, xvfb, "-a", "sh", "-c", script)
			cmd.Env = append(cmd.Env, "WINE="+p.Wine(), "PROBE="+exe, "TITLE="+title, "ANSWER="+answer)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("xvfb-run: %v\n%s%s", err, out, stderr.String())
			}
			// Xlib reports on stderr when Xvfb goes away; only stdout counts.
			if got := strings.TrimSpace(string(out)); got != answer {
				t.Errorf("Ask returned %q, want %q", got, answer)
			}
		})
	}
}

// TestWinmailEndToEnd configures one address in the certificate store, an
// Outlook profile and a Windows Live Mail account through package winmail
// with the real Windows APIs, then reverts it.
func TestWinmailEndToEnd(t *testing.T) {
	p := Shared(t)
	exe := probe(t)
	dir := t.TempDir()
	ca, leaf, pfx := testPKI(t, "erin@example.org", "pw")
	pfxPath := writeFile(t, dir, "erin.p12", pfx)
	caPath := writeFile(t, dir, "ca.der", ca.Raw)
	want := certstore.ThumbprintOf(leaf).String()

	profile := `HKCU\Software\Microsoft\Office\16.0\Outlook\Profiles\EndToEnd`
	email := hex.EncodeToString(utf16leZ("erin@example.org"))
	if _, err := p.Reg(t, "add", profile+`\9375CFF0413111d3B88A00104B2A6676\00000002`, "/v", "Email", "/t", "REG_BINARY", "/d", email, "/f"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Reg(t, "add", `HKCU\Software\Microsoft\Windows Live Mail`, "/v", "Store Root", "/t", "REG_EXPAND_SZ",
		"/d", `%LOCALAPPDATA%\Microsoft\Windows Live Mail`, "/f"); err != nil {
		t.Fatal(err)
	}
	local, _ := filepath.Glob(filepath.Join(p.Dir, "drive_c", "users", "*", "AppData", "Local"))
	var acctFile string
	for _, l := range local {
		if !strings.Contains(l, "Public") {
			acctFile = filepath.Join(l, "Microsoft", "Windows Live Mail", "erin", "account{erin}.oeaccount")
		}
	}
	orig := utf16leBOM("<?xml version=\"1.0\" encoding=\"utf-16\" ?>\r\n<MessageAccount>\r\n\t<Account_Name type=\"SZ\">erin</Account_Name>\r\n\t<SMTP_Email_Address type=\"SZ\">erin@example.org</SMTP_Email_Address>\r\n</MessageAccount>\r\n")
	if err := os.MkdirAll(filepath.Dir(acctFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(acctFile, orig, 0o644); err != nil {
		t.Fatal(err)
	}

	undo := filepath.Join(dir, "undo.json")
	if got := mustRun(t, p, exe, "configure", WinPath(undo), "erin@example.org", WinPath(pfxPath), "pw", WinPath(caPath)); got != want {
		t.Fatalf("configure: got %q, want thumbprint %s", got, want)
	}
	if reg, err := p.Reg(t, "query", `HKCU\Software\Microsoft\SystemCertificates\My\Certificates`); err != nil || !strings.Contains(reg, want) {
		t.Errorf("certificate %s not in My: %v", want, err)
	}
	key := profile + `\` + outlook.SecurityKey
	b, _ := regBinary(t, p, key, outlook.SettingsValue)
	if ss, err := outlook.DecodeSettings(b); err != nil || len(ss.Settings) != 1 {
		t.Errorf("Outlook settings after configure: %v", err)
	} else if s, _ := ss.Settings[0].SigningCert(); s.String() != want {
		t.Errorf("Outlook signs with %s, want %s", s, want)
	}
	acctBytes, _ := os.ReadFile(acctFile)
	if acct, err := wlmail.Parse(acctBytes); err != nil {
		t.Error(err)
	} else if got, _ := acct.Value(wlmail.SigningElement); !strings.EqualFold(got, want) {
		t.Errorf("WLM signing certificate: got %q, want %s", got, want)
	}

	mustRun(t, p, exe, "unconfigure", WinPath(undo))
	if b, ok := regBinary(t, p, key, outlook.SettingsValue); ok {
		t.Errorf("Outlook settings still there after unconfigure: %x", b)
	}
	if b, _ := os.ReadFile(acctFile); !bytes.Equal(b, orig) {
		t.Errorf("WLM account file differs after unconfigure")
	}
	if _, err := p.Run(t, exe, "checkkey", want); err == nil {
		t.Errorf("the private key is still usable after unconfigure")
	}
}

func utf16leZ(s string) []byte { return utf16leBOM(s + "\x00")[2:] }

func utf16leBOM(s string) []byte {
	b := []byte{0xff, 0xfe}
	for _, c := range utf16.Encode([]rune(s)) {
		b = append(b, byte(c), byte(c>>8))
	}
	return b
}
