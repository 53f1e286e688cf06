package openpgp

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the package a leaf: the standard library, go-crypto
// (with what it pulls in) and go-message only, nothing of endymail's mesh,
// agent or clients.
func TestDependencies(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	allowed := []string{
		"github.com/endymail/endymail/openpgp",
		"github.com/ProtonMail/go-crypto/",
		"github.com/cloudflare/circl/",
		"golang.org/x/crypto/",
		"golang.org/x/sys/cpu",
		"github.com/emersion/go-message",
	}
	for _, dep := range strings.Fields(string(out)) {
		ok := false
		for _, a := range allowed {
			ok = ok || strings.HasPrefix(dep, a)
		}
		if !ok {
			t.Errorf("openpgp depends on %s; want only the standard library, go-crypto and go-message", dep)
		}
	}
}
