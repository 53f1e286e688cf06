package wincfg

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProcessesSeesItself checks the Toolhelp walk on Windows (and under
// Wine, from internal/winetest): this test binary is in the list.
func TestProcessesSeesItself(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	names, err := Processes()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if strings.EqualFold(n, filepath.Base(self)) {
			return
		}
	}
	t.Errorf("Processes: %s not among %d names %q", filepath.Base(self), len(names), names)
}
