// Package layering holds the test that keeps the dependency direction of
// STYLE.md §2: cmd → agent → {clients/*, smime, openpgp, mesh client} → leaf
// types; the mesh server reaches only the protocol and its store; clients
// know nothing of the mesh.
package layering

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/endymail/endymail/"

// deps lists the module's own packages that pkg depends on.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", mod+pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	var own []string
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, mod) && p != mod+pkg {
			own = append(own, strings.TrimPrefix(p, mod))
		}
	}
	return own
}

func TestDependencyDirection(t *testing.T) {
	forbidden := map[string][]string{
		"mesh/proto":                {"mesh/server", "mesh/client", "mesh/store", "agent", "device", "clients", "smime", "openpgp"},
		"mesh/server":               {"agent", "device", "clients", "smime", "openpgp", "mesh/client"},
		"mesh/store/boltstore":      {"agent", "device", "clients", "smime", "openpgp", "mesh/server", "mesh/client"},
		"mesh/store/pgstore":        {"agent", "device", "clients", "smime", "openpgp", "mesh/server", "mesh/client"},
		"mesh/client":               {"mesh/server", "mesh/store", "agent", "device", "clients"},
		"smime":                     {"mesh", "agent", "device", "clients", "openpgp"},
		"openpgp":                   {"mesh", "agent", "device", "clients", "smime"},
		"clients":                   {"mesh", "agent", "device", "smime", "openpgp"},
		"clients/thunderbird":       {"mesh", "agent", "device", "smime", "openpgp"},
		"clients/gnupg":             {"mesh", "agent", "device", "smime", "openpgp"},
		"clients/windows/winmail":   {"mesh", "agent", "device", "smime", "openpgp"},
		"device":                    {"agent", "clients", "smime", "openpgp", "mesh/server", "mesh/store"},
		"udf":                       {""},
		"clients/thunderbird/prefs": {"mesh", "agent", "device", "smime", "openpgp", "clients/thunderbird"},
	}
	for pkg, bad := range forbidden {
		for _, d := range deps(t, pkg) {
			for _, b := range bad {
				if d == b || strings.HasPrefix(d, b+"/") || (b == "" && !strings.HasPrefix(d, "internal/")) {
					t.Errorf("%s depends on %s: the layering forbids it", pkg, d)
				}
			}
		}
	}
}

// Only the command imports the composition root.
func TestOnlyCommandImportsAgent(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, mod+"...").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := strings.TrimPrefix(f[0], mod)
		if pkg == "cmd/endymail" || strings.HasPrefix(pkg, "agent") {
			continue
		}
		for _, imp := range f[1:] {
			if imp == mod+"agent" || strings.HasPrefix(imp, mod+"agent/") {
				t.Errorf("%s imports %s: only cmd/endymail may", pkg, imp)
			}
		}
	}
}
