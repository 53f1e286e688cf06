package gnupg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// ErrNoGPG reports that the gpg program was not found. Its message names
// the Debian package to install.
var ErrNoGPG = errors.New("gpg not found: install the Debian package gnupg")

// gpg runs one gpg binary on one home folder, always with --batch and
// --no-tty so it never asks anything.
type gpg struct {
	path string
	home string
}

// findGPG returns the gpg to use: path when set, else "gpg" in PATH.
func findGPG(path, home string) (gpg, error) {
	if path == "" {
		path = "gpg"
	}
	p, err := exec.LookPath(path)
	if err != nil {
		return gpg{}, fmt.Errorf("%w (%v)", ErrNoGPG, err)
	}
	return gpg{path: p, home: home}, nil
}

// output runs gpg with args, feeding stdin, and returns its standard
// output. A non-zero exit is an error quoting the end of gpg's messages.
func (g gpg) output(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	full := append([]string{"--homedir", g.home, "--batch", "--no-tty"}, args...)
	cmd := exec.CommandContext(ctx, g.path, full...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("gpg %s: %w: %s", strings.Join(args, " "), err, lastLines(stderr.String(), 3))
	}
	return stdout.Bytes(), nil
}

// status runs gpg with --status-fd 1 (for commands that print nothing else
// on standard output) and returns the parsed status lines. A non-zero exit
// is returned as an error together with the lines read.
func (g gpg) status(ctx context.Context, stdin []byte, args ...string) ([]statusLine, error) {
	out, err := g.output(ctx, stdin, append([]string{"--status-fd", "1"}, args...)...)
	return parseStatus(out), err
}

// listing runs a --with-colons key listing. It never updates the trust
// database, so listing changes nothing.
func (g gpg) listing(ctx context.Context, what string, args ...string) ([]key, error) {
	out, err := g.output(ctx, nil, append([]string{"--no-auto-check-trustdb", "--with-colons", "--fixed-list-mode", what}, args...)...)
	if err != nil {
		return nil, err
	}
	return parseColons(out), nil
}

// secretKeys lists the keys whose secret part is in the home.
func (g gpg) secretKeys(ctx context.Context) ([]key, error) {
	return g.listing(ctx, "--list-secret-keys")
}

// publicKeys lists every key of the keyring.
func (g gpg) publicKeys(ctx context.Context) ([]key, error) {
	return g.listing(ctx, "--list-keys")
}

// ownertrust returns the ownertrust values set in the home, by fingerprint.
func (g gpg) ownertrust(ctx context.Context) (map[string]int, error) {
	out, err := g.output(ctx, nil, "--export-ownertrust")
	if err != nil {
		return nil, err
	}
	return parseOwnertrust(out)
}

// lastLines returns the last n non-empty lines of s, joined by "; ".
func lastLines(s string, n int) string {
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}
