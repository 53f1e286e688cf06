package tbtest

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/endymail/endymail/internal/atomicfile"
)

// FirstStartFiles are the files Thunderbird writes into a profile on its
// first real start; [FirstStart] checks that each exists.
var FirstStartFiles = []string{
	"prefs.js", "cert9.db", "key4.db", "openpgp.sqlite", "encrypted-openpgp-passphrase.txt",
}

// userPrefs go into user.js before each start: Marionette on a free port
// (written to MarionetteActivePort) and no first-run or default-client
// prompts.
var userPrefs = []string{
	`user_pref("marionette.port", 0);`,
	`user_pref("mail.shell.checkDefaultClient", false);`,
	`user_pref("mail.provider.suppress_dialog_on_startup", true);`,
	`user_pref("mailnews.start_page.enabled", false);`,
	`user_pref("app.update.disabledForTesting", true);`,
	`user_pref("datareporting.policy.dataSubmissionEnabled", false);`,
}

// NewProfile creates an empty Thunderbird profile in a test temp dir with
// `thunderbird --headless -CreateProfile "NAME DIR"` and returns the dir.
// Thunderbird only makes the folder; use [FirstStart] to populate it.
func NewProfile(t testing.TB) string {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "-CreateProfile", "endymail-test "+dir)
	cmd.Env = isolatedEnv(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("thunderbird -CreateProfile: %v\n%s", err, out)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("thunderbird -CreateProfile made no profile: %v", err)
	}
	return dir
}

// FirstStart starts Thunderbird on dir once and quits it, so that it writes
// the files in [FirstStartFiles]; it fails t if one is missing. It removes
// the user.js that [Start] wrote, leaving a profile as a user's first start
// would.
func FirstStart(t testing.TB, dir string) {
	t.Helper()
	in := Start(t, dir, Options{})
	if err := in.Quit(); err != nil {
		t.Fatalf("first start of %s: %v\n%s", dir, err, tail(withoutNoise(in.Output()), 4000))
	}
	if err := os.Remove(filepath.Join(dir, "user.js")); err != nil {
		t.Fatal(err)
	}
	if missing := MissingFiles(dir, FirstStartFiles); len(missing) > 0 {
		t.Fatalf("after first start, profile %s lacks %s", dir, strings.Join(missing, ", "))
	}
}

// MissingFiles returns the names in names that are not regular, non-empty
// files in dir.
func MissingFiles(dir string, names []string) []string {
	var missing []string
	for _, n := range names {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
			missing = append(missing, n)
		}
	}
	return missing
}

// CopyProfile copies the profile folder src into a new test temp dir and
// returns it. Lock files and the Marionette port file are left out.
func CopyProfile(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := copyTree(dst, src); err != nil {
		t.Fatalf("copying profile %s: %v", src, err)
	}
	return dst
}

func copyTree(dst, src string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o700)
		case !d.Type().IsRegular(): // "lock" is a symlink
			return nil
		case rel == ".parentlock" || rel == "MarionetteActivePort":
			return nil
		}
		return atomicfile.Copy(path, target)
	})
}

// writeUserJS appends [userPrefs] to dir/user.js.
func writeUserJS(dir string) error {
	f, err := os.OpenFile(filepath.Join(dir, "user.js"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("writing user.js: %w", err)
	}
	if _, err := f.WriteString(strings.Join(userPrefs, "\n") + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("writing user.js: %w", err)
	}
	return f.Close()
}

// isolatedEnv is a minimal environment with HOME and the XDG folders in a
// fresh temp dir, so Thunderbird never sees the real user's files.
func isolatedEnv(t testing.TB) []string {
	home := t.TempDir()
	env := []string{
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"TMPDIR=" + os.TempDir(),
		"MOZ_CRASHREPORTER_DISABLE=1",
		"LANG=C.UTF-8",
	}
	if p, ok := os.LookupEnv("PATH"); ok {
		env = append(env, "PATH="+p)
	}
	return env
}
