package thunderbird

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/internal/atomicfile"
)

// The NSS calls that read certificates of received mail. Each runs on a
// private copy of the profile's databases (see snapshotNSS), never on the
// profile itself: NSS may write to the folder it opens (pkcs11.txt,
// SQLite journals), and adding the builtin roots module, which Thunderbird
// loads at run time and does not list in the profile's pkcs11.txt, changes
// pkcs11.txt.

// errNotRecipient means NSS did not verify a certificate for an e-mail
// recipient; the message says why.
var errNotRecipient = errors.New("NSS does not accept the certificate for an e-mail recipient")

// snapshotNSS copies the profile's cert9.db and key4.db (with any SQLite
// journal next to them, which SQLite then completes or rolls back in the
// copy) into a new stage folder inside the profile, mode 0700 (the files
// keep their modes): the copy of key4.db, which NSS needs to mark the
// user's own certificates (trust "u") by their private keys, stays on the
// profile's own disk under the profile's own permissions, and a copy an
// interrupted run leaves behind is removed like any stale stage. The
// agent's file watch ignores it. The caller removes it.
func snapshotNSS(profile string) (string, error) {
	removeStaleStages(profile)
	tmp, err := os.MkdirTemp(profile, ".endymail-stage-")
	if err != nil {
		return "", err
	}
	for _, name := range []string{certDB, keyDB} {
		for _, suffix := range []string{"", "-journal", "-wal"} {
			err := atomicfile.Copy(filepath.Join(profile, name+suffix), filepath.Join(tmp, name+suffix))
			if err != nil && (suffix == "" && name == certDB || !errors.Is(err, os.ErrNotExist)) {
				os.RemoveAll(tmp)
				return "", fmt.Errorf("copy %s: %w", name+suffix, err)
			}
		}
	}
	return tmp, nil
}

// emailFingerprints returns the SHA-256 fingerprints (colon hex, as
// certutil prints them) of the certificates NSS files under address
// (`certutil -L --email`, which NSS matches case-insensitively).
func (t *nssTools) emailFingerprints(ctx context.Context, dir, address string) (map[string]bool, error) {
	out, err := t.run(ctx, nil, t.certutil, "-L", "-d", dbArg(dir), "--email", address)
	if err != nil {
		if strings.Contains(err.Error(), "Could not find certificates") {
			return nil, nil
		}
		return nil, err
	}
	fprs := map[string]bool{}
	for _, block := range strings.Split(string(out), "Certificate:\n") {
		if fpr, _ := certBlock(block); fpr != "" {
			fprs[fpr] = true
		}
	}
	return fprs, nil
}

// addBuiltinRoots adds the first builtin roots module found among
// builtinRoots(installDir) to the NSS database in dir (a snapshot). It
// reports false when there is none.
func (t *nssTools) addBuiltinRoots(ctx context.Context, dir, installDir string) (bool, error) {
	modutil, err := exec.LookPath("modutil")
	if err != nil {
		return false, fmt.Errorf("modutil: %w", ErrNSSToolsMissing)
	}
	for _, lib := range builtinRoots(installDir) {
		if !fileExists(lib) {
			continue
		}
		_, err := t.run(ctx, nil, modutil, "-force", "-dbdir", dbArg(dir), "-add", "Builtin Roots Module", "-libfile", lib)
		return err == nil, err
	}
	return false, nil
}

// verifyRecipient verifies the certificate der for an e-mail recipient,
// now, with the trust of the NSS database in dir (vfychain -u 5: NSS's
// CERT_VerifyCert, certUsageEmailRecipient). A certificate NSS refuses is
// an error wrapping errNotRecipient with NSS's reason.
func (t *nssTools) verifyRecipient(ctx context.Context, dir string, der []byte) error {
	vfychain, err := exec.LookPath("vfychain")
	if err != nil {
		return fmt.Errorf("vfychain: %w", ErrNSSToolsMissing)
	}
	sum := sha256.Sum256(der)
	f := filepath.Join(dir, fmt.Sprintf("cert-%x.der", sum[:8]))
	if err := os.WriteFile(f, der, 0o600); err != nil {
		return err
	}
	defer os.Remove(f)
	_, err = t.run(ctx, nil, vfychain, "-d", dbArg(dir), "-u", "5", "-r", f)
	var exit *exec.ExitError
	switch {
	case err == nil: // "Chain is good!" (on standard error)
		return nil
	case errors.Is(err, clients.ErrCorrupt) || !errors.As(err, &exit):
		return err
	}
	return fmt.Errorf("%w: %s", errNotRecipient, nssReason(err.Error()))
}

var nssError = regexp.MustCompile(`[A-Z]+_ERROR_[A-Z_]+|ERROR -?[0-9]+: [^\n]*`)

// nssReason picks NSS's error out of a tool's message (vfychain prints
// "ERROR -8172: Peer's certificate issuer has been marked as not trusted
// by the user.").
func nssReason(msg string) string {
	if m := nssError.FindString(msg); m != "" {
		return m
	}
	return strings.TrimSpace(msg)
}

// chainNicks returns the nicknames of the chain NSS builds for nick, root
// first (certutil -O).
func (t *nssTools) chainNicks(ctx context.Context, dir, nick string) ([]string, error) {
	out, err := t.run(ctx, nil, t.certutil, "-O", "-d", dbArg(dir), "-n", nick)
	if err != nil && !strings.Contains(string(out), "\"") {
		return nil, err
	}
	return parseChainNicks(string(out)), nil
}

// parseChainNicks reads certutil -O's output: one line per certificate,
// root first, `"nickname" [subject]`, indented by depth ("(null)" where
// NSS has no nickname at hand).
func parseChainNicks(out string) []string {
	var nicks []string
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, `"`) {
			continue
		}
		if end := strings.Index(line[1:], `" [`); end > 0 {
			nicks = append(nicks, line[1:1+end])
		}
	}
	return nicks
}

// acceptedForMail reports whether NSS verifies der for an e-mail recipient
// with the trust of the database in dir and the builtin roots, as
// Thunderbird would: on a snapshot of dir, which stays untouched.
func acceptedForMail(ctx context.Context, t nssVerifier, dir, installDir string, der []byte) (bool, error) {
	install, err := thunderbirdInstall(installDir)
	if err != nil {
		return false, err
	}
	snap, err := snapshotNSS(dir)
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(snap)
	if _, err := t.addBuiltinRoots(ctx, snap, install); err != nil {
		return false, err
	}
	err = t.verifyRecipient(ctx, snap, der)
	if errors.Is(err, errNotRecipient) {
		return false, nil
	}
	return err == nil, err
}
