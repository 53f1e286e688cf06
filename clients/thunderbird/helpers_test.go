//go:build linux

package thunderbird

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/endymail/endymail/clients/thunderbird/nsslib"
	"github.com/endymail/endymail/internal/atomicfile"
	"github.com/endymail/endymail/internal/interop"
)

const testAddress = "alice@example.com"

// accountPrefs is written into a new profile before its first start; the
// real Thunderbird then rewrites prefs.js in its own form. Two identities
// share the address (one with different case), a third account is Local
// Folders.
const accountPrefs = `user_pref("mail.accountmanager.accounts", "account1,account2,account3");
user_pref("mail.accountmanager.defaultaccount", "account1");
user_pref("mail.account.account1.identities", "id1,id2");
user_pref("mail.account.account1.server", "server1");
user_pref("mail.account.account2.server", "server2");
user_pref("mail.account.account3.identities", "id3");
user_pref("mail.account.account3.server", "server3");
user_pref("mail.server.server1.type", "pop3");
user_pref("mail.server.server1.hostname", "127.0.0.1");
user_pref("mail.server.server1.port", 9);
user_pref("mail.server.server1.userName", "alice");
user_pref("mail.server.server1.name", "alice@example.com");
user_pref("mail.server.server2.type", "none");
user_pref("mail.server.server2.hostname", "Local Folders");
user_pref("mail.server.server2.userName", "nobody");
user_pref("mail.server.server2.name", "Local Folders");
user_pref("mail.server.server3.type", "pop3");
user_pref("mail.server.server3.hostname", "127.0.0.1");
user_pref("mail.server.server3.port", 9);
user_pref("mail.server.server3.userName", "bob");
user_pref("mail.server.server3.name", "bob@example.org");
user_pref("mail.identity.id1.useremail", "alice@example.com");
user_pref("mail.identity.id1.fullName", "Alice Ex\u00e4mple \"Q\"");
user_pref("mail.identity.id2.useremail", "Alice@Example.com");
user_pref("mail.identity.id2.fullName", "Alice (work)");
user_pref("mail.identity.id3.useremail", "bob@example.org");
user_pref("mail.identity.id3.fullName", "Bob");
`

var (
	templateOnce sync.Once
	templateDir  string
	templateErr  string
	templateRoot string
)

// TestMain serves the nsslib helper when the test binary is started as one,
// and takes the NSS backend from ENDYMAIL_NSS_BACKEND ("lib" or "tools";
// unset: the tools where installed): run the whole suite with
// ENDYMAIL_NSS_BACKEND=lib to prove the S/MIME path through nsslib.
func TestMain(m *testing.M) {
	nsslib.ServeIfHelper()
	nssBackend = os.Getenv("ENDYMAIL_NSS_BACKEND")
	code := m.Run()
	if templateRoot != "" {
		os.RemoveAll(templateRoot)
	}
	os.Exit(code)
}

// startedProfile returns a copy of a profile the real Thunderbird created
// (-CreateProfile) and started once, with three accounts.
func startedProfile(t testing.TB) string {
	t.Helper()
	bin := interop.Need(t, "thunderbird", "thunderbird")
	templateOnce.Do(func() { templateDir, templateErr = makeTemplate(bin) })
	if templateErr != "" {
		t.Fatal(templateErr)
	}
	dst := t.TempDir()
	copyTreeT(t, templateDir, dst)
	return dst
}

func makeTemplate(bin string) (string, string) {
	root, err := os.MkdirTemp("", "endymail-tb-template-")
	if err != nil {
		return "", err.Error()
	}
	templateRoot = root
	home, dir := filepath.Join(root, "home"), filepath.Join(root, "profile")
	os.MkdirAll(home, 0o700)
	cmd := exec.Command(bin, "--headless", "-CreateProfile", "endymail "+dir)
	cmd.Env = append(os.Environ(), "HOME="+home)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "thunderbird -CreateProfile: " + err.Error() + "\n" + string(out)
	}
	if err := os.WriteFile(filepath.Join(dir, "prefs.js"), []byte(accountPrefs), 0o600); err != nil {
		return "", err.Error()
	}
	if msg := runUntilStarted(bin, home, dir); msg != "" {
		return "", msg
	}
	return dir, ""
}

// runUntilStarted starts Thunderbird on dir, waits until it has written its
// first-start files, and stops it with SIGTERM (it then writes prefs.js).
func runUntilStarted(bin, home, dir string) string {
	cmd := exec.Command(bin, "--headless", "-profile", dir)
	cmd.Env = append(os.Environ(), "HOME="+home)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err.Error()
	}
	deadline := time.Now().Add(90 * time.Second)
	for !fileExists(filepath.Join(dir, passphraseFile)) || !fileExists(filepath.Join(dir, "openpgp.sqlite")) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			return "thunderbird did not finish its first start in 90 s:\n" + out.String()
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Second)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	return ""
}

func copyTreeT(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o700)
		case d.Type()&fs.ModeSymlink != 0 || rel == ".parentlock":
			return nil
		}
		return atomicfile.Copy(path, target)
	})
	if err != nil {
		t.Fatalf("copy profile: %v", err)
	}
}

// tbNSS runs an NSS tool under Thunderbird's NSS, failing t on error.
func tbNSS(t testing.TB, stdin []byte, tool string, args ...string) string {
	t.Helper()
	interop.Need(t, tool, "libnss3-tools")
	interop.NeedFile(t, "/usr/lib/thunderbird/libsoftokn3.so", "thunderbird")
	cmd := exec.CommandContext(context.Background(), tool, args...)
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH=/usr/lib/thunderbird")
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
	return string(out)
}
