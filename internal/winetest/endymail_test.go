package winetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"github.com/endymail/endymail/internal/fixture"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/clients/windows/certstore"
	"github.com/endymail/endymail/clients/windows/outlook"
	"github.com/endymail/endymail/clients/windows/wlmail"
	"github.com/endymail/endymail/internal/interop"
)

// fakeOutlookSource is a Windows program that only runs: started as
// OUTLOOK.EXE it makes endymail see a running Outlook in the process list.
const fakeOutlookSource = `#include <windows.h>
#include <stdio.h>
int main(void) {
	printf("ready\n");
	fflush(stdout);
	Sleep(300000);
	return 0;
}
`

// wincfgFixtures are package wincfg's fixtures: a Windows Live Mail account
// file for alice and someone else's Outlook security setting.
const wincfgFixtures = "../../clients/windows/wincfg/testdata/"

// TestEndymailExe runs the real endymail.exe under Wine against a mesh
// service running natively: init, enable (refused while a program called
// OUTLOOK.EXE runs, applied by configure once it exits), accounts, and
// disable, checking the certificate store, an Outlook profile and a Windows
// Live Mail account file with Wine's reg.exe and the files themselves.
func TestEndymailExe(t *testing.T) {
	p := Shared(t)
	exe := filepath.Join(build.dir, "endymail.exe")
	BuildWindows(t, "github.com/endymail/endymail/cmd/endymail", exe, false)
	url := startMesh(t, buildLinux(t))

	const addr = "alice@example.com"
	profile := `HKCU\Software\Microsoft\Office\16.0\Outlook\Profiles\Endymail Alice`
	secKey := profile + `\` + outlook.SecurityKey
	theirs := readHex(t, wincfgFixtures+"outlook-settings-x64.hex")
	acctFile, origAcct := setUpClients(t, p, profile, addr, theirs)
	home := `C:\endymail-alice`
	stateFile := filepath.Join(p.Dir, "drive_c", "endymail-alice", "clients", "windows", addr+".json")

	out := endymail(t, p, exe, "init", addr, "--mesh", url, "--home", home)
	if !strings.Contains(out, "address: "+addr) {
		t.Fatalf("init: got\n%s\nwant the address line", out)
	}

	stop := startFakeOutlook(t, p)
	out = endymail(t, p, exe, "enable", addr, "--smime-key", "rsa2048", "--home", home)
	if !strings.Contains(out, "windows: running") {
		t.Errorf("enable with OUTLOOK.EXE running: got\n%s\nwant windows: running", out)
	}
	if b, _ := regBinary(t, p, secKey, outlook.SettingsValue); !bytes.Equal(b, theirs) {
		t.Errorf("Outlook settings changed while OUTLOOK.EXE ran")
	}
	if b, _ := os.ReadFile(acctFile); !bytes.Equal(b, origAcct) {
		t.Errorf("account file changed while OUTLOOK.EXE ran")
	}
	if _, err := os.Stat(stateFile); err == nil {
		t.Errorf("undo record written while OUTLOOK.EXE ran")
	}
	stop()

	out = endymail(t, p, exe, "configure", "--home", home)
	tp := importedThumbprint(t, out)
	checkConfigured(t, p, secKey, acctFile, tp)
	if _, err := p.Run(t, probe(t), "checkkey", tp.String()); err != nil {
		t.Errorf("checkkey %s: %v", tp, err)
	}
	if st, err := os.Stat(stateFile); err != nil || st.Size() == 0 {
		t.Errorf("undo record %s: %v", stateFile, err)
	}
	if out := endymail(t, p, exe, "configure", "--home", home); !strings.Contains(out, "windows: already configured") {
		t.Errorf("second configure: got\n%s\nwant windows: already configured", out)
	}
	checkAccounts(t, p, exe, home, addr)

	out = endymail(t, p, exe, "disable", addr, "--home", home)
	if !strings.Contains(out, "windows: removed certificate "+tp.String()) {
		t.Errorf("disable: got\n%s\nwant the certificate removed", out)
	}
	checkRestored(t, p, secKey, theirs, acctFile, origAcct, tp)
	if _, err := os.Stat(stateFile); err == nil {
		t.Errorf("undo record %s still there after disable", stateFile)
	}
}

// checkRestored checks that the Outlook profile and the account file hold
// their original bytes and that the key of tp is gone.
func checkRestored(t *testing.T, p *Prefix, secKey string, settings []byte, acctFile string, acct []byte, tp certstore.Thumbprint) {
	t.Helper()
	if b, _ := regBinary(t, p, secKey, outlook.SettingsValue); !bytes.Equal(b, settings) {
		t.Errorf("Outlook settings after disable: got %x, want the original %x", b, settings)
	}
	if b, ok := regBinary(t, p, secKey, outlook.DefaultsValue); ok {
		t.Errorf("%s still there after disable: %x", outlook.DefaultsValue, b)
	}
	if b, _ := os.ReadFile(acctFile); !bytes.Equal(b, acct) {
		t.Errorf("account file after disable differs from the original")
	}
	// Wine keeps a deleted certificate's registry key (TESTING.md); the
	// proof of the removal is that its key is gone.
	if _, err := p.Run(t, probe(t), "checkkey", tp.String()); err == nil {
		t.Errorf("the private key of %s is still usable after disable", tp)
	}
}

// setUpClients makes an Outlook profile with an account for addr holding
// someone else's security setting, and a Windows Live Mail account file for
// addr; it returns the file and its bytes.
func setUpClients(t *testing.T, p *Prefix, profile, addr string, settings []byte) (string, []byte) {
	t.Helper()
	for _, args := range [][]string{
		{"add", profile + `\9375CFF0413111d3B88A00104B2A6676\00000003`, "/v", "Email", "/t", "REG_BINARY", "/d", hex.EncodeToString(utf16leZ(addr)), "/f"},
		{"add", profile + `\` + outlook.SecurityKey, "/v", outlook.SettingsValue, "/t", "REG_BINARY", "/d", hex.EncodeToString(settings), "/f"},
		{"add", `HKCU\Software\Microsoft\Windows Live Mail`, "/v", "Store Root", "/t", "REG_EXPAND_SZ", "/d", `%LOCALAPPDATA%\Microsoft\Windows Live Mail`, "/f"},
	} {
		if _, err := p.Reg(t, args...); err != nil {
			t.Fatal(err)
		}
	}
	orig, err := os.ReadFile(wincfgFixtures + "account{alice}.oeaccount")
	if err != nil {
		t.Fatal(err)
	}
	local, _ := filepath.Glob(filepath.Join(p.Dir, "drive_c", "users", "*", "AppData", "Local"))
	var file string
	for _, l := range local {
		if !strings.Contains(l, string(filepath.Separator)+"Public"+string(filepath.Separator)) {
			file = filepath.Join(l, "Microsoft", "Windows Live Mail", "alice", "account{alice}.oeaccount")
		}
	}
	if file == "" {
		t.Fatalf("no user AppData\\Local in the prefix")
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	return file, orig
}

// checkConfigured checks that the certificate tp is in My and that the
// Outlook profile and the account file sign and encrypt with it.
func checkConfigured(t *testing.T, p *Prefix, secKey, acctFile string, tp certstore.Thumbprint) {
	t.Helper()
	reg, err := p.Reg(t, "query", `HKCU\Software\Microsoft\SystemCertificates\My\Certificates`)
	if err != nil || !strings.Contains(reg, tp.String()) {
		t.Errorf("reg query My\\Certificates: %v; want a key named %s in\n%s", err, tp, reg)
	}
	b, _ := regBinary(t, p, secKey, outlook.SettingsValue)
	ss, err := outlook.DecodeSettings(b)
	if err != nil || len(ss.Settings) != 2 {
		t.Fatalf("Outlook settings: %v; want someone else's setting and endymail's", err)
	}
	ours := ss.Settings[1]
	gs, _ := ours.SigningCert()
	ge, _ := ours.EncryptionCert()
	if ours.Name() != "endymail" || gs != tp || ge != tp || ours.Flags()&outlook.DefaultForAll == 0 {
		t.Errorf("Outlook setting %q: signs with %s, encrypts with %s, flags %b; want the default, with %s", ours.Name(), gs, ge, ours.Flags(), tp)
	}
	if d, _ := regBinary(t, p, secKey, outlook.DefaultsValue); !bytes.Equal(d, []byte{2, 0, 0, 0}) {
		t.Errorf("%s: got %x, want 02000000 (sign by default)", outlook.DefaultsValue, d)
	}
	raw, _ := os.ReadFile(acctFile)
	acct, err := wlmail.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, el := range []string{wlmail.SigningElement, wlmail.EncryptionElement} {
		if got, _ := acct.Value(el); !strings.EqualFold(got, tp.String()) {
			t.Errorf("account file %s: got %q, want %s", el, got, tp)
		}
	}
}

// checkAccounts checks that `endymail accounts --json` lists addr in
// Outlook and Windows Live Mail, enabled.
func checkAccounts(t *testing.T, p *Prefix, exe, home, addr string) {
	t.Helper()
	var ids []clients.Identity
	if err := json.Unmarshal([]byte(endymail(t, p, exe, "accounts", "--json", "--home", home)), &ids); err != nil {
		t.Fatalf("accounts --json: %v", err)
	}
	want := map[string]bool{"outlook": false, "windows-live-mail": false}
	for _, id := range ids {
		if strings.EqualFold(id.Address, addr) && id.Enabled {
			want[id.Client] = true
		}
	}
	for client, ok := range want {
		if !ok {
			t.Errorf("accounts: no enabled %s identity for %s in %+v", client, addr, ids)
		}
	}
}

var importedRE = regexp.MustCompile(`windows: imported certificate ([0-9A-F]{40}) `)

func importedThumbprint(t *testing.T, out string) certstore.Thumbprint {
	t.Helper()
	m := importedRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("configure: got\n%s\nwant a line saying which certificate was imported", out)
	}
	tp, err := certstore.ParseThumbprint(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

// endymail runs endymail.exe and returns its standard output.
func endymail(t *testing.T, p *Prefix, exe string, args ...string) string {
	t.Helper()
	out, err := p.Run(t, exe, args...)
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s", err, out)
	}
	return out
}

// buildLinux builds endymail for this machine.
func buildLinux(t *testing.T) string {
	t.Helper()
	out := filepath.Join(build.dir, "endymail")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	if b, err := exec.CommandContext(ctx, "go", "build", "-o", out, "github.com/endymail/endymail/cmd/endymail").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// startMesh runs `endymail mesh serve` on a free loopback port until the
// test ends and returns its URL.
func startMesh(t *testing.T, bin string) string {
	t.Helper()
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "mesh", "serve", "--listen", "127.0.0.1:0", "--data", data, "--pow-bits", "4")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	url, err := firstLine(stdout, "listening on ", 30*time.Second)
	if err != nil {
		t.Fatalf("mesh serve: %v\n%s", err, stderr.String())
	}
	return url
}

// firstLine returns the rest of the first line of r that starts with
// prefix, and keeps draining r.
func firstLine(r io.Reader, prefix string, timeout time.Duration) (string, error) {
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), prefix); ok {
				select {
				case found <- rest:
				default:
				}
			}
		}
		close(found)
	}()
	select {
	case s, ok := <-found:
		if !ok {
			return "", io.ErrUnexpectedEOF
		}
		return s, nil
	case <-time.After(timeout):
		return "", context.DeadlineExceeded
	}
}

// startFakeOutlook runs a program called OUTLOOK.EXE in the prefix until
// the returned function is called.
func startFakeOutlook(t *testing.T, p *Prefix) (stop func()) {
	t.Helper()
	gcc := interop.Need(t, "x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64-win32")
	dir := t.TempDir()
	src, exe := filepath.Join(dir, "outlook.c"), filepath.Join(dir, "OUTLOOK.EXE")
	if err := os.WriteFile(src, []byte(fakeOutlookSource), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(gcc, "-O2", "-o", exe, src).CombinedOutput(); err != nil {
		t.Fatalf("build fake OUTLOOK.EXE: %v\n%s", err, b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := p.Cmd(ctx, p.Wine(), exe)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop = func() { cancel(); cmd.Wait() }
	t.Cleanup(stop)
	if _, err := firstLine(stdout, "ready", runTimeout); err != nil {
		t.Fatalf("fake OUTLOOK.EXE did not start: %v", err)
	}
	return stop
}

// readHex reads a hex fixture (see fixture.Hex).
func readHex(t testing.TB, name string) []byte { return fixture.Hex(t, name) }

// TestWincfgPackageTests runs package wincfg's tests as a Windows test
// binary: the conformance suite with Windows paths, and the Toolhelp
// process list against Wine's.
func TestWincfgPackageTests(t *testing.T) {
	p := Shared(t)
	exe := filepath.Join(build.dir, "wincfg.test.exe")
	BuildWindows(t, "github.com/endymail/endymail/clients/windows/wincfg", exe, true)
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := p.Cmd(ctx, p.Wine(), exe, "-test.v", "-test.count=1")
	cmd.Dir = "../../clients/windows/wincfg" // its testdata
	b, err := cmd.CombinedOutput()
	out := string(b)
	if err != nil || !strings.Contains(out, "--- PASS: TestProcessesSeesItself") || !strings.Contains(out, "\nPASS") {
		t.Fatalf("wincfg tests under Wine: %v\n%s", err, out)
	}
}
