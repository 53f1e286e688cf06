//go:build linux

package localapi

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/endymail/endymail/internal/winetest"
)

// TestNamedPipeUnderWine runs this package's round-trip test as a Windows
// program under Wine: the API over the named pipe, with its DACL and the
// client's owner check. Wine proves the API use, not Windows' access
// checks against another user.
func TestNamedPipeUnderWine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Windows test binary and runs Wine; not in -short")
	}
	p := winetest.Shared(t)
	exe := filepath.Join(t.TempDir(), "localapi.test.exe")
	winetest.BuildWindows(t, ".", exe, true)
	out, err := p.Run(t, exe, "-test.run", "^TestRoundTripAndErrors$", "-test.v")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "--- PASS: TestRoundTripAndErrors") {
		t.Errorf("under Wine:\n%s", out)
	}
}
