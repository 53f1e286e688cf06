// Package interop finds the real peer programs (Thunderbird, NSS tools, gpg,
// rnp, sq, openssl, Wine, PostgreSQL) that interop tests drive.
//
// Use [Need] at the top of a test: it returns the program's path, or skips the
// test with a message naming the Debian package to install. When
// ENDYMAIL_REQUIRE_INTEROP=1 (set by `make test` and CI) a missing peer fails
// the test instead, so CI can never pass by skipping.
package interop

import (
	"os"
	"os/exec"
	"testing"
)

// Required reports whether missing peers are failures rather than skips.
func Required() bool { return os.Getenv("ENDYMAIL_REQUIRE_INTEROP") == "1" }

// Need returns the path of program, looked up in PATH. If it is missing the
// test is skipped (or failed under ENDYMAIL_REQUIRE_INTEROP=1) with a message
// naming pkg, the Debian package that provides it.
func Need(t testing.TB, program, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err == nil {
		return p
	}
	Missing(t, program+" not found", pkg)
	return ""
}

// NeedFile is [Need] for a peer identified by a file path rather than a
// program in PATH (for example Thunderbird's own NSS libraries).
func NeedFile(t testing.TB, path, pkg string) string {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return path
	}
	Missing(t, path+" not found", pkg)
	return ""
}

// Missing skips or fails t because a peer is unavailable.
func Missing(t testing.TB, what, pkg string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s: install the Debian package %q (ENDYMAIL_REQUIRE_INTEROP=1 forbids skipping)", what, pkg)
	}
	t.Skipf("%s: install the Debian package %q to run this interop test", what, pkg)
}
