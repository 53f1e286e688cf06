package thunderbird

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/endymail/endymail/clients"
)

// Two ways to Thunderbird's NSS (see [nssDB]). The database must be
// written by the NSS that Thunderbird reads it with: Thunderbird 153 ships
// NSS newer than Debian's, and the system pwdecrypt cannot even read its
// key4.db. Both backends therefore load the libraries from Thunderbird's
// install folder:
//   - nssTools (this file), the default where they are installed: the
//     system's certutil/pk12util/pwdecrypt with the loader pointed at
//     Thunderbird's folder (LD_LIBRARY_PATH, DYLD_LIBRARY_PATH, PATH);
//   - nssLib (nss_lib.go, package nsslib) where the tools are missing —
//     always on Windows, whose Thunderbird ships nss3.dll but no tools: the
//     library itself, called without cgo through purego (so cross-builds
//     keep working with cgo off). NSS keeps process-global state (one
//     database per NSS_Initialize) and a fault in it would take the agent
//     down, so nsslib runs each call in a child process of our own
//     executable, the same isolation the tools give.
//
// Cost, measured on this project's 2-core machine under load: one
// `certutil -L` run ≈ 23 ms; BenchmarkNSSImport, side by side in one run,
// puts the whole staged S/MIME step (8 tool runs: checks, CA with trust,
// certificate, pk12util, re-check, plus copies and renames) at ≈ 2.1× a
// bare pk12util import of the same PKCS#12 (≈ 0.33 s against ≈ 0.16 s).
// The same benchmark runs that step through both backends side by side:
// nssLib costs ≈ 1.2× nssTools (2026-11-27, 5 runs of 20: medians 146 ms
// against 121 ms; an earlier, busier run 0.25 s against 0.20 s). Each
// nssLib call is one child process, like each tool run.

// nssTools runs certutil, pk12util and pwdecrypt against Thunderbird's NSS.
type nssTools struct {
	certutil, pk12util, pwdecrypt string
	env                           []string
}

// ErrNSSToolsMissing means certutil, pk12util or pwdecrypt is not installed.
var ErrNSSToolsMissing = errors.New("NSS tools (certutil, pk12util, pwdecrypt) not found: install the package libnss3-tools")

// findTools locates the tools in PATH and Thunderbird's NSS libraries in
// installDir, or in the platform's usual install folders when it is "".
func findTools(installDir string) (*nssTools, error) {
	var t nssTools
	for _, p := range []struct {
		dst  *string
		name string
	}{{&t.certutil, "certutil"}, {&t.pk12util, "pk12util"}, {&t.pwdecrypt, "pwdecrypt"}} {
		path, err := exec.LookPath(p.name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.name, ErrNSSToolsMissing)
		}
		*p.dst = path
	}
	dir, err := thunderbirdInstall(installDir)
	if err != nil {
		return nil, err
	}
	t.env = append(os.Environ(), libraryEnv(dir))
	return &t, nil
}

// thunderbirdInstall returns the folder holding Thunderbird's NSS.
func thunderbirdInstall(dir string) (string, error) {
	candidates := installCandidates()
	if dir != "" {
		candidates = []string{dir}
	}
	if nssLibrary == "" {
		return "", fmt.Errorf("locate Thunderbird: %w", errors.ErrUnsupported)
	}
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(c, nssLibrary)); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("thunderbird's NSS (%s) not found in %s", nssLibrary, strings.Join(candidates, ", "))
}

func prependEnv(name, dir string) string {
	if old := os.Getenv(name); old != "" {
		return name + "=" + dir + string(os.PathListSeparator) + old
	}
	return name + "=" + dir
}

// run runs a tool and returns its standard output. A failure names the tool
// and quotes its message; a damaged database wraps [clients.ErrCorrupt].
func (t *nssTools) run(ctx context.Context, stdin []byte, tool string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Env = t.env
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String() + " " + stdout.String())
		err = fmt.Errorf("%s %s: %w: %s", filepath.Base(tool), strings.Join(args[:1], " "), err, msg)
		if strings.Contains(msg, "SEC_ERROR_BAD_DATABASE") || strings.Contains(msg, "SEC_ERROR_LEGACY_DATABASE") {
			err = fmt.Errorf("%w: %w", err, clients.ErrCorrupt)
		}
		return stdout.Bytes(), err
	}
	return stdout.Bytes(), nil
}

func dbArg(dir string) string { return "sql:" + dir }

// certsByNick returns the DER certificates stored under nick (none when
// the nickname is unknown).
func (t *nssTools) certsByNick(ctx context.Context, dir, nick string) ([][]byte, error) {
	out, err := t.run(ctx, nil, t.certutil, "-L", "-d", dbArg(dir), "-n", nick, "-a")
	if err != nil {
		if bytes.Contains(out, []byte("BEGIN")) || !isNotFound(err) {
			return nil, err
		}
		return nil, nil
	}
	var ders [][]byte
	for rest := out; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return ders, nil
		}
		ders = append(ders, b.Bytes)
	}
}

func isNotFound(err error) bool {
	s := err.Error()
	return strings.Contains(s, "could not find certificate") || strings.Contains(s, "Could not find cert") ||
		strings.Contains(s, "SEC_ERROR_UNRECOGNIZED_OID") || strings.Contains(s, "PR_FILE_NOT_FOUND_ERROR")
}

// listing returns certutil -L's table: nickname → trust flags.
func (t *nssTools) listing(ctx context.Context, dir string) (map[string]string, error) {
	out, err := t.run(ctx, nil, t.certutil, "-L", "-d", dbArg(dir))
	if err != nil {
		return nil, err
	}
	trust := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimRight(line, " ")
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || strings.Count(line[i+1:], ",") != 2 {
			continue
		}
		trust[strings.TrimSpace(line[:i])] = line[i+1:]
	}
	return trust, nil
}

// keyNicks returns the nicknames of the private keys (certutil -K).
func (t *nssTools) keyNicks(ctx context.Context, dir string) (map[string]bool, error) {
	out, err := t.run(ctx, nil, t.certutil, "-K", "-d", dbArg(dir))
	if err != nil && !strings.Contains(err.Error(), "no keys found") {
		return nil, err
	}
	nicks := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		// "< 0> rsa      40470ad7…   nickname"
		if !strings.HasPrefix(line, "<") {
			continue
		}
		f := strings.Fields(line[strings.IndexByte(line, '>')+1:])
		if len(f) >= 3 {
			nicks[strings.Join(f[2:], " ")] = true
		}
	}
	return nicks, nil
}

// createDB makes an empty database (certutil -N --empty-password).
func (t *nssTools) createDB(ctx context.Context, dir string) error {
	_, err := t.run(ctx, nil, t.certutil, "-N", "-d", dbArg(dir), "--empty-password")
	return err
}

// setTrust changes the trust of the certificate under nick (certutil -M).
func (t *nssTools) setTrust(ctx context.Context, dir, nick, trust string) error {
	_, err := t.run(ctx, nil, t.certutil, "-M", "-d", dbArg(dir), "-n", nick, "-t", trust)
	return err
}

// addCert stores der under nick with the given trust flags.
func (t *nssTools) addCert(ctx context.Context, dir, nick, trust string, der []byte) error {
	f := filepath.Join(dir, "endymail-cert.der")
	if err := os.WriteFile(f, der, 0o600); err != nil {
		return err
	}
	defer os.Remove(f)
	_, err := t.run(ctx, nil, t.certutil, "-A", "-d", dbArg(dir), "-n", nick, "-t", trust, "-i", f)
	return err
}

// importPKCS12 imports key and certificates; the password travels in a
// 0600 file, never on a command line.
func (t *nssTools) importPKCS12(ctx context.Context, dir string, p12 []byte, password string) error {
	f := filepath.Join(dir, "endymail-import.p12")
	pw := filepath.Join(dir, "endymail-import.pw")
	defer os.Remove(f)
	defer os.Remove(pw)
	if err := os.WriteFile(f, p12, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(pw, []byte(password+"\n"), 0o600); err != nil {
		return err
	}
	_, err := t.run(ctx, nil, t.pk12util, "-i", f, "-d", dbArg(dir), "-w", pw)
	return err
}

// deleteNick removes every certificate (and with withKey its private key)
// stored under nick.
func (t *nssTools) deleteNick(ctx context.Context, dir, nick string, withKey bool) error {
	op := "-D"
	if withKey {
		op = "-F"
	}
	for range 16 {
		ders, err := t.certsByNick(ctx, dir, nick)
		if err != nil || len(ders) == 0 {
			return err
		}
		if _, err := t.run(ctx, nil, t.certutil, op, "-d", dbArg(dir), "-n", nick); err != nil {
			return err
		}
	}
	return fmt.Errorf("certutil: %q still present after 16 deletions", nick)
}

// openPGPPassphrase decrypts Thunderbird's automatic OpenPGP passphrase
// (encrypted-openpgp-passphrase.txt, SDR-encrypted with key4.db).
func (t *nssTools) openPGPPassphrase(ctx context.Context, dir string, enc []byte) ([]byte, error) {
	out, err := t.run(ctx, enc, t.pwdecrypt, "-d", dbArg(dir))
	if err != nil {
		return nil, err
	}
	const prefix = `Decrypted: "`
	s := strings.TrimSpace(string(out))
	if !strings.HasPrefix(s, prefix) || !strings.HasSuffix(s, `"`) || len(s) <= len(prefix)+1 {
		return nil, fmt.Errorf("pwdecrypt could not decrypt %s with its key4.db (wrong NSS or damaged file): %w",
			passphraseFile, clients.ErrCorrupt)
	}
	return []byte(s[len(prefix) : len(s)-1]), nil
}
