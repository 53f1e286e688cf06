// Package wlmail configures S/MIME in Windows Live Mail (and Windows Mail,
// whose account format it kept): each account's signing and encryption
// certificate is named by thumbprint in its account{GUID}.oeaccount file.
//
// Use [StoreRoot] to find the store folder, [Apply] to point every account
// of an address at a certificate already in CurrentUser\My (see package
// certstore), and [Revert] with the returned changes to undo it. [Parse] and
// [Account] are the byte-preserving file format underneath. Windows Live Mail
// reads account files when it starts and may rewrite them while it runs;
// apply while it is closed.
package wlmail

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/endymail/endymail/clients/windows/certstore"
	"github.com/endymail/endymail/clients/windows/winreg"
)

// Registry keys (below HKEY_CURRENT_USER) holding the "Store Root" value,
// newest first. The value is REG_EXPAND_SZ, typically
// %LOCALAPPDATA%\Microsoft\Windows Live Mail. Source: Thunderbird's Windows
// Live Mail importer, mailnews/import/winlivemail/nsWMUtils.cpp
// (nsWMUtils::FindWMKey, GetRootFolder: reads "Store Root", expands it with
// ExpandEnvironmentStrings, and searches it recursively for *.oeaccount).
var registryKeys = []string{
	`Software\Microsoft\Windows Live Mail`,
	`Software\Microsoft\Windows Mail`,
}

// The account file elements endymail sets (Microsoft, "New Handling for
// Account Data": SMTP_Certificate "Specifies signing certificate",
// SMTP_Encryption_Certificate "Specifies encryption certificate", both
// BINARY). The value is the certificate's SHA-1 thumbprint in hex; Windows
// Live Mail looks the certificate up in CurrentUser\My by it.
const (
	SigningElement    = "SMTP_Certificate"
	EncryptionElement = "SMTP_Encryption_Certificate"
)

var (
	// ErrNotInstalled reports that no Windows (Live) Mail store is
	// registered for the user.
	ErrNotInstalled = errors.New("windows live mail is not set up for this user")
	// ErrNoAccount reports that no account file sends from the address.
	ErrNoAccount = errors.New("no windows live mail account for the address")
	// ErrChangedSince reports an account file element changed by someone
	// else after endymail set it; [Revert] leaves it alone.
	ErrChangedSince = errors.New("account file changed since endymail wrote it")
)

// StoreRoot returns the store folder from the registry, with %NAME%
// environment references expanded through getenv (os.Getenv in production).
func StoreRoot(reg winreg.Registry, getenv func(string) string) (string, error) {
	for _, key := range registryKeys {
		v, err := reg.Get(key, "Store Root")
		if errors.Is(err, winreg.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		if (v.Kind != winreg.String && v.Kind != winreg.ExpandString) || v.Str == "" {
			return "", fmt.Errorf("%s\\Store Root is %v %q, want a folder path", key, v.Kind, v.Str)
		}
		return expandEnv(v.Str, getenv), nil
	}
	return "", ErrNotInstalled
}

// expandEnv replaces %NAME% like ExpandEnvironmentStrings: names that are
// not set stay as they are.
func expandEnv(s string, getenv func(string) string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '%')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i+1:], '%')
		if j < 0 {
			break
		}
		name := s[i+1 : i+1+j]
		if v := getenv(name); name != "" && v != "" {
			b.WriteString(s[:i] + v)
			s = s[i+2+j:]
			continue
		}
		b.WriteString(s[:i+1+j])
		s = s[i+1+j:]
	}
	b.WriteString(s)
	return b.String()
}

// AccountFiles returns the *.oeaccount files below root, recursively.
func AccountFiles(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".oeaccount") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list windows live mail accounts: %w", err)
	}
	return files, nil
}

// Addresses returns the sending addresses of the account files below
// root, in file path order, without duplicates (compared without regard to
// case). Files that are not account files make it fail.
func Addresses(root string) ([]string, error) {
	files, err := AccountFiles(root)
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for _, f := range files {
		acct, err := readAccount(f)
		if err != nil {
			return nil, err
		}
		if a := acct.Address(); a != "" && !seen[strings.ToLower(a)] {
			seen[strings.ToLower(a)] = true
			out = append(out, a)
		}
	}
	return out, nil
}

// Change records one element endymail set in one account file: the exact
// XML that was there before (Old, nil when there was none) and the value it
// wrote. Changes are plain data so the agent can persist them.
type Change struct {
	File    string  `json:"file"`
	Element string  `json:"element"`
	Old     *string `json:"old,omitempty"`
	New     string  `json:"new"`
}

// Apply sets the signing and encryption certificates of every account file
// below root whose SMTP_Email_Address is address (compared without regard
// to case). A zero thumbprint leaves that element alone. Files are
// rewritten atomically; elements that already hold the value are not
// touched, so applying twice changes nothing. It returns what it changed,
// for [Revert], or an error wrapping [ErrNoAccount].
func Apply(root, address string, sign, enc certstore.Thumbprint) ([]Change, error) {
	files, err := AccountFiles(root)
	if err != nil {
		return nil, err
	}
	var changes []Change
	found := false
	for _, f := range files {
		acct, err := readAccount(f)
		if err != nil {
			return changes, err
		}
		if !strings.EqualFold(acct.Address(), address) {
			continue
		}
		found = true
		cs, err := setCerts(acct, f, sign, enc)
		if err != nil {
			return changes, err
		}
		if len(cs) > 0 {
			if err := writeAccount(f, acct); err != nil {
				return changes, err
			}
			changes = append(changes, cs...)
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: %s below %s", ErrNoAccount, address, root)
	}
	return changes, nil
}

func setCerts(acct *Account, file string, sign, enc certstore.Thumbprint) ([]Change, error) {
	var changes []Change
	for _, s := range []struct {
		elem string
		t    certstore.Thumbprint
	}{{SigningElement, sign}, {EncryptionElement, enc}} {
		if s.t.IsZero() {
			continue
		}
		want := strings.ToLower(s.t.String())
		if cur, ok := acct.Value(s.elem); ok && strings.EqualFold(strings.TrimSpace(cur), want) {
			continue
		}
		c := Change{File: file, Element: s.elem, New: want}
		if old, ok := acct.element(s.elem); ok {
			c.Old = &old
		}
		if err := acct.SetBinary(s.elem, want); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// Revert undoes changes, newest first. An element whose value is no longer
// the one endymail wrote is left alone and reported with [ErrChangedSince];
// a file that is gone is skipped. Reverting twice is harmless.
func Revert(changes []Change) error {
	var errs []error
	for i := len(changes) - 1; i >= 0; i-- {
		c := changes[i]
		acct, err := readAccount(c.File)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if cur, ok := acct.Value(c.Element); !ok || !strings.EqualFold(strings.TrimSpace(cur), c.New) {
			if !reverted(acct, c) {
				errs = append(errs, fmt.Errorf("%s %s: %w", c.File, c.Element, ErrChangedSince))
			}
			continue
		}
		if c.Old == nil {
			err = acct.Remove(c.Element)
		} else {
			err = acct.put(c.Element, *c.Old)
		}
		if err == nil {
			err = writeAccount(c.File, acct)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("revert %s %s: %w", c.File, c.Element, err))
		}
	}
	return errors.Join(errs...)
}

// reverted reports whether acct already holds what was there before c.
func reverted(acct *Account, c Change) bool {
	x, ok := acct.element(c.Element)
	if c.Old == nil {
		return !ok
	}
	return ok && x == *c.Old
}

func readAccount(file string) (*Account, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	acct, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return acct, nil
}

// writeAccount replaces file atomically (temporary file in the same folder,
// fsync, rename), keeping its permission bits.
func writeAccount(file string, acct *Account) error {
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(file); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".endymail-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(acct.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}
