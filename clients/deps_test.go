package clients_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLeaf keeps the client configurators free of the mesh, the key
// makers and the agent (STYLE.md §2): they get Material and nothing else.
func TestLeaf(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", "github.com/endymail/endymail/clients/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"/mesh", "/smime", "/openpgp", "/agent", "/cmd/"} {
			if strings.HasPrefix(dep, "github.com/endymail/endymail/") && strings.Contains(dep, banned) {
				t.Errorf("clients/... depends on %s", dep)
			}
		}
	}
}
