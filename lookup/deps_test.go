package lookup

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the lookup chain apart from the agent: it may use
// the mesh protocol, openpgp and the atomic file writer, never the agent,
// the device home, the clients, the mesh client, server or store (sources
// come in through the Mesh interface and an *http.Client).
func TestDependencies(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"/agent", "/device", "/clients", "/mesh/client", "/mesh/server", "/mesh/store"} {
			if strings.HasPrefix(dep, "github.com/endymail/endymail"+banned) {
				t.Errorf("lookup depends on %s", dep)
			}
		}
	}
}
