// Package winetest runs endymail's Windows code under Wine: it prepares a
// Wine prefix that can run Go programs, cross-builds Go programs and test
// binaries with GOOS=windows, runs them with wine64 and reads the registry
// back with Wine's reg.exe.
//
// Use [Shared] at the top of a test: it skips unless wine64 and
// x86_64-w64-mingw32-gcc are installed (see internal/interop) and returns
// the one prefix of this test binary, made on first use (wineboot takes
// ~20 s); call [Cleanup] from TestMain. What Wine cannot prove is listed in
// TESTING.md: it shares one key container between PFX imports, keeps
// registry entries of deleted certificates, has its own DPAPI format and
// no CNG flags, so tests here check layout and API use, not key behaviour.
package winetest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/endymail/endymail/internal/interop"
)

// shimSource is a test-only bcryptprimitives.dll: Go >= 1.22 draws random
// bytes from ProcessPrng, which Wine 8 lacks; RtlGenRandom (exported from
// advapi32 as SystemFunction036) is enough for tests. Never ship it.
const shimSource = `#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buf, ULONG len);
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!SystemFunction036(data, n)) return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
`

const shimDef = "LIBRARY bcryptprimitives\nEXPORTS\nProcessPrng\n"

// Timeouts for the slow steps; the machines are shared and loaded.
const (
	bootTimeout  = 4 * time.Minute
	buildTimeout = 6 * time.Minute
	runTimeout   = 2 * time.Minute
)

// Prefix is a Wine prefix that runs GOOS=windows Go programs.
type Prefix struct {
	Dir  string // WINEPREFIX
	wine string // the wine64 loader
}

var shared struct {
	once   sync.Once
	prefix *Prefix
	root   string
	err    error
}

// Wine64 returns the wine64 loader or skips t. Debian installs it outside
// PATH, so /usr/lib/wine/wine64 is tried too.
func Wine64(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("wine64"); err == nil {
		return p
	}
	return interop.NeedFile(t, "/usr/lib/wine/wine64", "wine64")
}

// Shared returns this test binary's prefix, creating it on first use, or
// skips t when Wine or MinGW is missing.
func Shared(t testing.TB) *Prefix {
	t.Helper()
	wine := Wine64(t)
	gcc := interop.Need(t, "x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64-win32")
	shared.once.Do(func() {
		shared.root, shared.err = os.MkdirTemp("", "endymail-wine-")
		if shared.err == nil {
			shared.prefix, shared.err = NewPrefix(filepath.Join(shared.root, "prefix"), wine, gcc)
		}
	})
	if shared.err != nil {
		t.Fatalf("wine prefix: %v", shared.err)
	}
	return shared.prefix
}

// Cleanup removes the shared prefix; call it from TestMain after m.Run.
func Cleanup() {
	if shared.prefix != nil {
		// Stop the prefix's wineserver before deleting its files.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		shared.prefix.command(ctx, "wineserver", "-k").Run()
	}
	if shared.root != "" {
		os.RemoveAll(shared.root)
	}
}

// NewPrefix initialises a prefix in dir (wineboot --init) and installs the
// ProcessPrng shim, built with gcc, into its system32.
func NewPrefix(dir, wine, gcc string) (*Prefix, error) {
	p := &Prefix{Dir: dir, wine: wine}
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	defer cancel()
	if out, err := p.command(ctx, wine, "wineboot", "--init").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("wineboot --init: %v\n%s", err, out)
	}
	sys32 := filepath.Join(dir, "drive_c", "windows", "system32")
	if err := BuildShim(ctx, gcc, filepath.Join(sys32, "bcryptprimitives.dll")); err != nil {
		return nil, err
	}
	return p, nil
}

// BuildShim compiles the bcryptprimitives.dll shim to out.
func BuildShim(ctx context.Context, gcc, out string) error {
	dir, err := os.MkdirTemp("", "endymail-shim-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	src, def := filepath.Join(dir, "shim.c"), filepath.Join(dir, "shim.def")
	if err := os.WriteFile(src, []byte(shimSource), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(def, []byte(shimDef), 0o644); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, gcc, "-shared", "-O2", "-o", out, src, def, "-ladvapi32")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build bcryptprimitives shim: %v\n%s", err, b)
	}
	return nil
}

// Cmd prepares a command (wine64, xvfb-run, …) to run against the prefix:
// WINEPREFIX set, no debug chatter, no display (a window needs xvfb-run).
func (p *Prefix) Cmd(ctx context.Context, name string, args ...string) *exec.Cmd {
	return p.command(ctx, name, args...)
}

// Wine returns the wine64 loader the prefix runs with.
func (p *Prefix) Wine() string { return p.wine }

func (p *Prefix) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = 10 * time.Second
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DISPLAY=") && !strings.HasPrefix(kv, "WAYLAND_DISPLAY=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "WINEPREFIX="+p.Dir, "WINEDEBUG=-all", "WINELOADER="+p.wine, "WINEDLLOVERRIDES=mscoree,mshtml=")
	return cmd
}

// Run runs a Windows program (a path on this machine) in the prefix and
// returns its standard output; a failure includes standard error.
func (p *Prefix) Run(t testing.TB, exe string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := p.command(ctx, p.wine, append([]string{exe}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("wine %s %s: %w\n%s", filepath.Base(exe), strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// Reg runs Wine's reg.exe (query, add, delete) and returns its output.
func (p *Prefix) Reg(t testing.TB, args ...string) (string, error) {
	t.Helper()
	return p.Run(t, "reg", args...)
}

// WinPath maps a path on this machine to the Windows path Wine gives it
// (drive Z: is the root file system).
func WinPath(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	return `Z:` + strings.ReplaceAll(abs, "/", `\`)
}

// BuildWindows cross-compiles package pkg (an import path or ./dir) as a
// Windows program to out. With test set it builds the package's test
// binary instead (go test -c).
func BuildWindows(t testing.TB, pkg, out string, test bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	args := []string{"build", "-o", out, pkg}
	if test {
		args = []string{"test", "-c", "-o", out, pkg}
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=windows go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
}
