//go:build linux

package nsslib

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/endymail/endymail/clients/thunderbird/tbtest"
)

// TestVerifyChainEmailLikeTheTools checks Verify, Chain and ByEmail
// against vfychain, certutil -O and certutil -L --email on one database.
func TestVerifyChainEmailLikeTheTools(t *testing.T) {
	db := newDB(t)
	ca, id := identity(t, "frank@example.com")
	leafFile := filepath.Join(t.TempDir(), "leaf.der")
	if err := os.WriteFile(leafFile, id.Cert.Raw, 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, db, Op{Kind: AddCert, Nick: "frank CA", Trust: ",,", Data: ca.Cert.Raw},
		Op{Kind: AddCert, Nick: "frank", Trust: ",,", Data: id.Cert.Raw})

	res := mustRun(t, db, Op{Kind: Verify, Data: id.Cert.Raw})
	if out, err := tryTool("vfychain", "-d", "sql:"+db, "-u", "5", "-r", leafFile); res[0].Valid || err == nil {
		t.Errorf("untrusted CA: nsslib valid=%v, vfychain %v %s; want both to refuse", res[0].Valid, err, out)
	} else if !strings.Contains(out, "-8172") || res[0].Reason != "SEC_ERROR_UNTRUSTED_ISSUER" {
		t.Errorf("untrusted CA: nsslib says %q, vfychain %q; want SEC_ERROR_UNTRUSTED_ISSUER (-8172)", res[0].Reason, out)
	}

	res = mustRun(t, db, Op{Kind: SetTrust, Nick: "frank CA", Trust: ",C,"}, Op{Kind: Verify, Data: id.Cert.Raw},
		Op{Kind: Chain, Nick: "frank"}, Op{Kind: ByEmail, Nick: "Frank@Example.com"})
	if out, err := tryTool("vfychain", "-d", "sql:"+db, "-u", "5", "-r", leafFile); !res[1].Valid || err != nil {
		t.Errorf("CA trusted for mail: nsslib valid=%v (%s), vfychain %v %s; want both to accept", res[1].Valid, res[1].Reason, err, out)
	}
	if got, want := res[2].Nicks, []string{"frank CA", "frank"}; !slices.Equal(got, want) {
		t.Errorf("Chain: got %q, want %q", got, want)
	}
	if out := certutil(t, "-O", "-d", "sql:"+db, "-n", "frank"); !strings.Contains(out, `"frank CA"`) {
		t.Errorf("certutil -O: %s", out)
	}
	if got := res[3].Certs; len(got) != 1 || !slices.Equal(got[0], id.Cert.Raw) {
		t.Errorf("ByEmail: got %d certificates, want frank's leaf", len(got))
	}
	if out := certutil(t, "-L", "-d", "sql:"+db, "--email", "frank@example.com"); !strings.Contains(out, "frank@example.com") {
		t.Errorf("certutil -L --email: %s", out)
	}
}

func TestAddModuleSeenByModutil(t *testing.T) {
	db := newDB(t)
	roots, _ := filepath.Glob("/usr/lib/*-linux-gnu/libnssckbi.so")
	if len(roots) == 0 {
		t.Skip("no libnssckbi.so")
	}
	mustRun(t, db, Op{Kind: AddModule, Nick: "Builtin Roots Module", Library: roots[0]})
	out := tbtest.RunNSSTool(t, "modutil", "-list", "-dbdir", "sql:"+db)
	if !strings.Contains(out, "Builtin Roots Module") || !strings.Contains(out, roots[0]) {
		t.Errorf("modutil -list after AddModule: got\n%s\nwant the Builtin Roots Module from %s", out, roots[0])
	}
}

// tryTool runs an NSS tool with Thunderbird's NSS; it may fail.
func tryTool(tool string, args ...string) (string, error) {
	cmd := exec.Command(tool, args...)
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+tbtest.NSSLibDir)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
