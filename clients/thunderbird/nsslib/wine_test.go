//go:build linux

package nsslib

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/endymail/endymail/internal/interop"
	"github.com/endymail/endymail/internal/winetest"
)

// TestWineLoader proves the Windows half that can run without
// Thunderbird's NSS: the Windows build of this package starts its helper
// under Wine, which loads a stand-in nss3.dll with LoadLibraryEx and
// reports the functions it lacks. It proves nothing about real NSS on
// Windows (there is no Thunderbird-for-Windows NSS here).
func TestWineLoader(t *testing.T) {
	p := winetest.Shared(t)
	gcc := interop.Need(t, "x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64-win32")
	dir := t.TempDir()
	src := filepath.Join(dir, "stub.c")
	if err := os.WriteFile(src, []byte("int endymail_stub(void) { return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(gcc, "-shared", "-o", filepath.Join(dir, "nss3.dll"), src).CombinedOutput(); err != nil {
		t.Fatalf("build the stand-in nss3.dll: %v\n%s", err, out)
	}
	exe := filepath.Join(dir, "nsslib.test.exe")
	winetest.BuildWindows(t, ".", exe, true)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := p.Cmd(ctx, p.Wine(), exe, "-test.run=^TestWindowsLoader$", "-test.v")
	cmd.Env = append(cmd.Env, "NSSLIB_WINE_LIBDIR="+winetest.WinPath(dir))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestWindowsLoader") {
		t.Fatalf("Windows test binary under Wine: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
