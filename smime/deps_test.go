package smime

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the package a leaf of the mail-key side: the
// standard library and the named crypto and MIME libraries only, never the
// mesh or the clients.
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := []string{
		"github.com/endymail/endymail/smime",
		"github.com/smallstep/pkcs7",
		"software.sslmate.com/src/go-pkcs12",
		"github.com/emersion/go-message",
		"golang.org/x/crypto/", // go-pkcs12's own dependency
	}
	for _, dep := range strings.Fields(string(out)) {
		ok := false
		for _, a := range allowed {
			ok = ok || dep == a || strings.HasPrefix(dep, a+"/") || (strings.HasSuffix(a, "/") && strings.HasPrefix(dep, a))
		}
		if !ok {
			t.Errorf("smime depends on %s, which is not allowed", dep)
		}
	}
}
