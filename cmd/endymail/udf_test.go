package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runUDFCLI runs the CLI in-process with stdin and returns the exit code,
// stdout and stderr.
func runUDFCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{
		stdin:  strings.NewReader(stdin),
		stdout: &stdout,
		stderr: &stderr,
		getenv: func(string) string { return "" },
	}
	code := mainWithEnv(args, e)
	return code, stdout.String(), stderr.String()
}

func TestUDFCommand(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "value.txt")
	if err := os.WriteFile(file, []byte("UDF Data Value"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Expected values: draft-hallambaker-mesh-udf vectors (see
	// udf/testdata/fingerprints.txt).
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"stdin, default type", "", []string{"udf"}, "MDAR-5XR6-HEGL-J62A-3QHT-7VUK-HBPQ"},
		{"stdin, text/plain", "UDF Data Value", []string{"udf", "--type", "text/plain"}, "MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF"},
		{"stdin as -", "UDF Data Value", []string{"udf", "--type=text/plain", "-"}, "MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF"},
		{"file", "ignored", []string{"udf", "--type", "text/plain", file}, "MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF"},
		{"flags after file", "", []string{"udf", file, "--type", "text/plain", "--bits", "260"},
			"MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF-XI6O-ZSLU-2VOA-TZQ6-JMHP-TSXP"},
		{"sha3", "", []string{"udf", "--sha3", "--type", "text/plain", file}, "KCFI-NCQG-DRKG-47R7-OVPT-TCHZ-7UXY"},
		{"100 bits", "", []string{"udf", "--bits", "100", "--type", "text/plain", file}, "MDDK-7N6A-727A-JZNO-STRX"},
	} {
		code, out, errOut := runUDFCLI(t, tc.stdin, tc.args...)
		if code != 0 || out != tc.want+"\n" || errOut != "" {
			t.Errorf("%s: endymail %s = exit %d, stdout %q, stderr %q; want 0, %q", tc.name, strings.Join(tc.args, " "), code, out, errOut, tc.want+"\n")
		}
	}
}

func TestUDFCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"bits too small", []string{"udf", "--bits", "99"}, 2, "--bits 99 is outside 100 to 520"},
		{"bits too large", []string{"udf", "--bits", "521"}, 2, "--bits 521 is outside 100 to 520"},
		{"bits not a number", []string{"udf", "--bits", "many"}, 2, "invalid value"},
		{"two files", []string{"udf", "a", "b"}, 2, "at most one FILE, got 2"},
		{"unknown flag", []string{"udf", "--md5"}, 2, "flag provided but not defined"},
		{"missing file", []string{"udf", filepath.Join(t.TempDir(), "absent")}, 1, "absent"},
	} {
		code, out, errOut := runUDFCLI(t, "", tc.args...)
		if code != tc.wantCode || out != "" || !strings.Contains(errOut, "error: ") || !strings.Contains(errOut, tc.wantErr) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and an error containing %q", tc.name, code, out, errOut, tc.wantCode, tc.wantErr)
		}
	}
}

func TestUDFCommandHelp(t *testing.T) {
	code, _, errOut := runUDFCLI(t, "", "udf", "-h")
	if code != 0 || !strings.Contains(errOut, "usage: endymail udf") || !strings.Contains(errOut, "-sha3") {
		t.Errorf("udf -h: exit %d, stderr %q; want 0 and the usage", code, errOut)
	}
}
