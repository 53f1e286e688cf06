//go:build unix && !darwin

package autostart

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeSystemctl records service manager commands; session says whether a
// systemd user manager answers.
type fakeSystemctl struct {
	session bool
	calls   []string
}

func (f *fakeSystemctl) run(ctx context.Context, name string, args ...string) error {
	f.calls = append(f.calls, name+" "+strings.Join(args, " "))
	if !f.session {
		return errors.New("Failed to connect to bus: No medium found")
	}
	return nil
}

func opts(t *testing.T, f *fakeSystemctl) (Options, string) {
	home := t.TempDir()
	return Options{Exe: "/usr/bin/endymail", Args: []string{"agent"}, Home: home,
		Getenv: func(string) string { return "" }, Run: f.run}, home
}

// files lists every file under dir, relative.
func files(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

func TestSystemdInstallIdempotentUninstall(t *testing.T) {
	f := &fakeSystemctl{session: true}
	opt, home := opts(t, f)
	ctx := context.Background()
	res, err := Install(ctx, opt)
	if err != nil || res.Method != "systemd" || !res.Installed {
		t.Fatalf("install: got %+v, %v", res, err)
	}
	unit := filepath.Join(home, ".config/systemd/user/endymail-agent.service")
	data, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{Marker, `ExecStart="/usr/bin/endymail" "agent"`, "WantedBy=default.target", "Restart=on-failure"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("unit lacks %q:\n%s", want, data)
		}
	}
	if !slices.Contains(f.calls, "systemctl --user enable --now endymail-agent.service") {
		t.Errorf("systemctl calls: %q, want enable --now", f.calls)
	}
	fi, _ := os.Stat(unit)
	again, err := Install(ctx, opt)
	if err != nil || len(again.Actions) != 0 {
		t.Errorf("second install: got actions %q, %v; want none", again.Actions, err)
	}
	if fi2, _ := os.Stat(unit); !fi2.ModTime().Equal(fi.ModTime()) {
		t.Error("second install rewrote the unit")
	}
	st, _ := Status(ctx, opt)
	if !st.Installed || st.Method != "systemd" {
		t.Errorf("status: got %+v", st)
	}
	f.calls = nil
	un, err := Uninstall(ctx, opt)
	if err != nil || !un.Installed || len(un.Files) != 1 || un.Files[0] != unit {
		t.Fatalf("uninstall: got %+v, %v", un, err)
	}
	if !slices.Contains(f.calls, "systemctl --user disable --now endymail-agent.service") {
		t.Errorf("systemctl calls: %q, want disable --now", f.calls)
	}
	if left := files(t, home); len(left) != 0 {
		t.Errorf("files left after uninstall: %q", left)
	}
	if st, _ := Status(ctx, opt); st.Installed {
		t.Errorf("status after uninstall: %+v", st)
	}
}

func TestAutostartEntryWithoutSession(t *testing.T) {
	f := &fakeSystemctl{}
	opt, home := opts(t, f)
	ctx := context.Background()
	res, err := Install(ctx, opt)
	if err != nil || res.Method != "xdg-autostart" {
		t.Fatalf("install: got %+v, %v", res, err)
	}
	if got := files(t, home); !slices.Equal(got, []string{".config/autostart/endymail-agent.desktop"}) {
		t.Errorf("files: got %q", got)
	}
	data, _ := os.ReadFile(filepath.Join(home, ".config/autostart/endymail-agent.desktop"))
	if !strings.Contains(string(data), "[Desktop Entry]\nType=Application\n") || !strings.Contains(string(data), `Exec="/usr/bin/endymail" "agent"`) {
		t.Errorf("desktop entry:\n%s", data)
	}
	if again, _ := Install(ctx, opt); len(again.Actions) != 0 {
		t.Errorf("second install: actions %q", again.Actions)
	}
	if _, err := Uninstall(ctx, opt); err != nil {
		t.Fatal(err)
	}
	if left := files(t, home); len(left) != 0 {
		t.Errorf("files left after uninstall: %q", left)
	}
}

// A file the user wrote at the same path is neither overwritten nor
// removed.
func TestLeavesOtherFilesAlone(t *testing.T) {
	f := &fakeSystemctl{}
	opt, home := opts(t, f)
	p := filepath.Join(home, ".config/autostart/endymail-agent.desktop")
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte("[Desktop Entry]\nExec=mine\n"), 0o644)
	if _, err := Install(context.Background(), opt); !errors.Is(err, ErrNotOurs) {
		t.Errorf("install over the user's file: got %v, want ErrNotOurs", err)
	}
	if _, err := Uninstall(context.Background(), opt); !errors.Is(err, ErrNotOurs) {
		t.Errorf("uninstall of the user's file: got %v, want ErrNotOurs", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "[Desktop Entry]\nExec=mine\n" {
		t.Errorf("the user's file changed: %q", b)
	}
}

func TestRelativeExeRefused(t *testing.T) {
	if _, err := Install(context.Background(), Options{Exe: "endymail"}); err == nil {
		t.Error("install with a relative program path: got no error")
	}
}
