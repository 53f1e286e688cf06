package openpgp

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/endymail/endymail/internal/interop"
)

// testPassphrase protects the secret keys handed to the peers.
const testPassphrase = "endymail interop passphrase"

// peer runs one real OpenPGP program in its own home directory.
type peer struct {
	t    testing.TB
	bin  string
	home string
	pre  []string // arguments before every command
}

// newGPG returns a gpg 2.2 with an empty home directory (short path: the
// agent's socket path must fit in sun_path) and a passphrase file.
func newGPG(t testing.TB) *peer {
	bin := interop.Need(t, "gpg", "gnupg")
	home, err := os.MkdirTemp("", "gpg")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(home, 0o700); err != nil {
		t.Fatal(err)
	}
	pass := filepath.Join(home, "pass")
	if err := os.WriteFile(pass, []byte(testPassphrase), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if gpgconf, err := exec.LookPath("gpgconf"); err == nil {
			_ = exec.Command(gpgconf, "--homedir", home, "--kill", "all").Run()
		}
		os.RemoveAll(home)
	})
	return &peer{t: t, bin: bin, home: home, pre: []string{"--homedir", home, "--batch", "--no-tty",
		"--pinentry-mode", "loopback", "--passphrase-file", pass, "--trust-model", "always", "--no-auto-key-locate"}}
}

// newRNP returns rnp (rnp or rnpkeys) with an empty home directory.
func newRNP(t testing.TB, program string) *peer {
	bin := interop.Need(t, program, "rnp")
	home := t.TempDir()
	return &peer{t: t, bin: bin, home: home, pre: []string{"--homedir", home}}
}

// newSQ returns the stateless sq.
func newSQ(t testing.TB) *peer {
	return &peer{t: t, bin: interop.Need(t, "sq", "sq"), home: t.TempDir()}
}

// with returns the same home directory driven by another program of the
// same peer (rnpkeys and rnp).
func (p *peer) with(program, pkg string) *peer {
	return &peer{t: p.t, bin: interop.Need(p.t, program, pkg), home: p.home, pre: p.pre}
}

// run runs the peer with args and stdin; it returns stdout and stderr.
func (p *peer) run(stdin []byte, args ...string) (stdout []byte, stderr string, err error) {
	p.t.Helper()
	cmd := exec.Command(p.bin, append(append([]string{}, p.pre...), args...)...)
	cmd.Dir = p.home
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		err = <-done
	}
	return out.Bytes(), errb.String(), err
}

// must is run that fails the test on a non-zero exit.
func (p *peer) must(stdin []byte, args ...string) []byte {
	p.t.Helper()
	out, stderr, err := p.run(stdin, args...)
	if err != nil {
		p.t.Fatalf("%s %s: %v\n%s", filepath.Base(p.bin), strings.Join(args, " "), err, stderr)
	}
	return out
}

// file writes data into the peer's home directory and returns the path.
func (p *peer) file(name string, data []byte) string {
	p.t.Helper()
	path := filepath.Join(p.home, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// rawParts splits a multipart message into its raw body parts without
// using the package's own parser: the header's boundary parameter, then
// the text between "\r\n--boundary" delimiters.
func rawParts(t testing.TB, msg []byte) [][]byte {
	t.Helper()
	s := string(msg)
	i := strings.Index(s, "boundary=")
	if i < 0 {
		t.Fatalf("no boundary in\n%s", msg)
	}
	b := strings.Trim(strings.FieldsFunc(s[i+len("boundary="):], func(r rune) bool { return r == ';' || r == '\r' || r == '\n' })[0], `"`)
	chunks := strings.Split(s, "\r\n--"+b)
	var parts [][]byte
	for _, c := range chunks[1 : len(chunks)-1] {
		parts = append(parts, []byte(strings.TrimPrefix(c, "\r\n")))
	}
	if !strings.HasPrefix(chunks[len(chunks)-1], "--") {
		t.Fatalf("no closing boundary in\n%s", msg)
	}
	return parts
}

// partPayload returns the body of a raw part (after the blank line).
func partPayload(t testing.TB, part []byte) []byte {
	t.Helper()
	_, body, ok := bytes.Cut(part, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("part has no header/body separator:\n%s", part)
	}
	return body
}

// envelope is the outer header used when wrapping peer output in PGP/MIME.
const envelope = "From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\n" +
	"Subject: from a peer\r\nDate: Fri, 27 Nov 2026 06:00:00 +0000\r\nMessage-ID: <peer@example.org>\r\nMIME-Version: 1.0\r\n"

// innerEntity is the MIME entity peers sign or encrypt in the tests.
const innerEntity = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
	"Hello Bob,\r\nthis was made by a real peer. Gr=C3=BC=C3=9Fe\r\n"

// wrapEncrypted puts an armored OpenPGP message into multipart/encrypted,
// written out by hand as RFC 3156 §4 shows it.
func wrapEncrypted(from string, armored []byte) []byte {
	env := strings.Replace(envelope, "alice@example.org", from, 1)
	return []byte(env + "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"XyZ\"\r\n\r\n" +
		"--XyZ\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n" +
		"--XyZ\r\nContent-Type: application/octet-stream\r\n\r\n" + string(armored) + "\r\n--XyZ--\r\n")
}

// wrapSigned puts a signed entity and its armored detached signature into
// multipart/signed as RFC 3156 §5 shows it.
func wrapSigned(from, signed string, sig []byte) []byte {
	env := strings.Replace(envelope, "alice@example.org", from, 1)
	return []byte(env + "Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=\"XyZ\"\r\n\r\n" +
		"--XyZ\r\n" + signed + "\r\n--XyZ\r\nContent-Type: application/pgp-signature\r\n\r\n" + string(sig) + "\r\n--XyZ--\r\n")
}
