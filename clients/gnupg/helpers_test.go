//go:build unix

package gnupg

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/internal/interop"
	"github.com/endymail/endymail/openpgp"
)

const testAddress = "alice@example.org"

// newHome makes an empty GnuPG home under /tmp (gpg-agent's socket path
// must stay under 108 bytes) and kills its agent at the end of the test.
func newHome(t testing.TB) string {
	t.Helper()
	interop.Need(t, "gpg", "gnupg")
	home, err := os.MkdirTemp("/tmp", "g")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(home, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run()
		os.RemoveAll(home)
	})
	return home
}

// gpgT runs the real gpg on home and fails t when it fails.
func gpgT(t testing.TB, home string, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("gpg", append([]string{"--homedir", home, "--batch", "--no-tty"}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gpg %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// userKey makes a key the way a GnuPG user does (gpg --quick-generate-key,
// which also sets its ownertrust to ultimate) and returns its fingerprint.
func userKey(t testing.TB, home, uid string) string {
	t.Helper()
	out := gpgT(t, home, nil, "--status-fd", "1", "--passphrase", "", "--quick-generate-key", uid, "ed25519", "default", "never")
	for _, l := range parseStatus(out) {
		if l.Keyword == "KEY_CREATED" && len(l.Args) >= 2 {
			return l.Args[1]
		}
	}
	t.Fatalf("gpg --quick-generate-key %q: no KEY_CREATED status in %q", uid, out)
	return ""
}

var (
	keysOnce sync.Once
	keysErr  error
	testKeys = map[string]*clients.OpenPGP{}
)

// material returns endymail material for address, with a key made once per
// test binary by the project's openpgp package.
func material(t testing.TB, address string) clients.Material {
	t.Helper()
	keysOnce.Do(func() {
		for _, a := range []string{testAddress, "bob@example.org"} {
			k, err := openpgp.Generate(openpgp.KeyRequest{Name: "Test " + a, Address: a})
			if err != nil {
				keysErr = err
				return
			}
			sec, err := k.Marshal()
			if err != nil {
				keysErr = err
				return
			}
			pub, err := k.SerializePublic()
			if err != nil {
				keysErr = err
				return
			}
			testKeys[a] = &clients.OpenPGP{Secret: sec, Public: pub, Fingerprint: k.Fingerprint()}
		}
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	p, ok := testKeys[address]
	if !ok {
		t.Fatalf("no test key for %s", address)
	}
	return clients.Material{Address: address, Name: "Test", OpenPGP: p}
}

// snapshot is the home's state as gpg reports it: the exported keyring,
// the key listings (validity and trust-check records blanked: gpg
// recomputes them), the ownertrust, the private key file names and
// gpg.conf. pubring.kbx and trustdb.gpg bytes change on any delete, so
// they are compared through gpg.
func snapshot(t testing.TB, home string) map[string][]byte {
	t.Helper()
	s := map[string][]byte{}
	if err := checkKeyboxFile(home); err != nil {
		// A corrupt keybox: compare its bytes, gpg cannot list it.
		b, err := os.ReadFile(filepath.Join(home, pubringKBX))
		if err != nil {
			t.Fatal(err)
		}
		s[pubringKBX+" (corrupt)"] = b
		return s
	}
	s["gpg --export"] = gpgT(t, home, nil, "--export")
	s["gpg --list-keys"] = stableListing(gpgT(t, home, nil, "--no-auto-check-trustdb", "--with-colons", "--list-keys"))
	s["gpg --list-secret-keys"] = stableListing(gpgT(t, home, nil, "--no-auto-check-trustdb", "--with-colons", "--list-secret-keys"))
	var trust []string
	for _, l := range strings.Split(string(gpgT(t, home, nil, "--export-ownertrust")), "\n") {
		if !strings.HasPrefix(l, "#") {
			trust = append(trust, l)
		}
	}
	sort.Strings(trust)
	s["gpg --export-ownertrust"] = []byte(strings.Join(trust, "\n"))
	names, err := privateKeyNames(home)
	if err != nil {
		t.Fatal(err)
	}
	s[keysDir] = []byte(strings.Join(names, "\n"))
	if b, err := os.ReadFile(filepath.Join(home, "gpg.conf")); err == nil {
		s["gpg.conf"] = b
	}
	return s
}

func stableListing(out []byte) []byte {
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Split(l, ":")
		if f[0] == "tru" {
			continue
		}
		if len(f) > 1 {
			f[1] = ""
		}
		lines = append(lines, strings.Join(f, ":"))
	}
	return []byte(strings.Join(lines, "\n"))
}

// trustOf returns the ownertrust field of fpr's pub record in a gpg
// listing ("u" for ultimate), or "" when the key is not listed.
func trustOf(t testing.TB, home, fpr string) string {
	t.Helper()
	out := gpgT(t, home, nil, "--with-colons", "--list-keys")
	owner := ""
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Split(l, ":")
		switch {
		case f[0] == "pub" && len(f) > 8:
			owner = f[8]
		case f[0] == "fpr" && len(f) > 9 && f[9] == fpr && owner != "":
			return owner
		case f[0] != "fpr":
			owner = ""
		}
	}
	return ""
}
