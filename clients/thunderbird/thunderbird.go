// Package thunderbird configures Thunderbird profiles for end-to-end
// encrypted mail: the S/MIME key and certificate into the profile's NSS
// database (with Thunderbird's own NSS), the personal CA trusted for mail,
// the OpenPGP key into the RNP keyrings under Thunderbird's automatic
// passphrase and accepted as personal, and the identity prefs in prefs.js.
//
// Use [New] for a [Configurator] (a clients.Configurator, and also
// clients.Contacts and clients.ReceivedCerts: the address books, and the
// certificates of signed mail received) over the profiles found in the
// platform's usual places, or over the profiles named in [Options]. The file formats have their own API: package prefs for
// prefs.js, [ReadProfiles] for profiles.ini/installs.ini,
// [DBKey] for the key Thunderbird finds a certificate by.
//
// Safety: nothing is written while Thunderbird runs (ErrClientRunning);
// every change is staged in a folder inside the profile, the files about to
// change are backed up to PROFILE/endymail-backup/<time>/, and the staged
// files are renamed into place with prefs.js last.
package thunderbird

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/clients/thunderbird/prefs"
)

// ClientName is the Client of every [clients.Identity] this package lists.
const ClientName = "thunderbird"

// Options select the profiles and tools a [Configurator] uses. The zero
// value finds everything in the platform's usual places.
type Options struct {
	// Home is the user's home folder; "" means os.UserHomeDir.
	Home string
	// Profiles, when set, are the only profile folders used (no discovery).
	Profiles []string
	// InstallDir is Thunderbird's install folder holding its NSS; "" means
	// the platform's usual folders.
	InstallDir string
	// Now is the clock for backup folder names; nil means time.Now.
	Now func() time.Time
}

// Configurator configures Thunderbird profiles.
type Configurator struct {
	opts Options
}

var _ clients.Configurator = (*Configurator)(nil)

// New returns a Configurator. It finds no profiles and tools yet; that
// happens on each call, so profiles made later are seen.
func New(opts Options) *Configurator {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Configurator{opts: opts}
}

// DefaultRoots returns the folders holding profiles.ini on this platform.
func DefaultRoots(home string) ([]string, error) {
	roots := platformRoots(home)
	if roots == nil {
		return nil, fmt.Errorf("thunderbird profiles: %w", errors.ErrUnsupported)
	}
	return roots, nil
}

// profileDirs lists the profile folders to work on.
func (c *Configurator) profileDirs() ([]string, error) {
	if c.opts.Profiles != nil {
		return c.opts.Profiles, nil
	}
	home := c.opts.Home
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return nil, err
		}
		home = h
	}
	roots, err := DefaultRoots(home)
	if err != nil {
		return nil, err
	}
	ps, err := DiscoverProfiles(roots)
	dirs := make([]string, 0, len(ps))
	for _, p := range ps {
		dirs = append(dirs, p.Dir)
	}
	return dirs, err
}

// Identities lists the identities of every profile. A profile without
// prefs.js (never started) has none.
func (c *Configurator) Identities(ctx context.Context) ([]clients.Identity, error) {
	dirs, err := c.profileDirs()
	if err != nil {
		return nil, err
	}
	var out []clients.Identity
	for _, dir := range dirs {
		pf, err := readPrefs(dir)
		if err != nil {
			return nil, err
		}
		st, err := loadState(dir)
		if err != nil {
			return nil, err
		}
		for _, id := range Identities(pf) {
			out = append(out, clients.Identity{
				Client:   ClientName,
				Location: dir,
				Account:  id.Account,
				Address:  id.Address,
				Name:     id.Name,
				Enabled:  st.configures(id.Key),
			})
		}
	}
	return out, nil
}

// readPrefs parses PROFILE/prefs.js; a missing file is an empty one.
func readPrefs(dir string) (*prefs.File, error) {
	src, err := os.ReadFile(filepath.Join(dir, prefsFile))
	if errors.Is(err, os.ErrNotExist) {
		src = nil
	} else if err != nil {
		return nil, fmt.Errorf("read prefs: %w", err)
	}
	p, err := prefs.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, prefsFile), err)
	}
	return p, nil
}

// IdentityPrefs is one mail.identity.* entry reached from an account.
type IdentityPrefs struct {
	Key     string // "id1"
	Account string // "account1"
	Address string // useremail
	Name    string // fullName
}

// Identities walks mail.accountmanager.accounts →
// mail.account.<account>.identities → mail.identity.<id>.useremail/fullName.
// An identity shared by two accounts is listed once, under the first.
func Identities(p *prefs.File) []IdentityPrefs {
	var out []IdentityPrefs
	seen := map[string]bool{}
	for _, acct := range splitList(p.String("mail.accountmanager.accounts")) {
		for _, id := range splitList(p.String("mail.account." + acct + ".identities")) {
			addr := p.String("mail.identity." + id + ".useremail")
			if seen[id] || addr == "" {
				continue
			}
			seen[id] = true
			out = append(out, IdentityPrefs{Key: id, Account: acct, Address: addr,
				Name: p.String("mail.identity." + id + ".fullName")})
		}
	}
	return out
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// identitiesFor returns the keys of the identities using address.
func identitiesFor(p *prefs.File, address string) []string {
	var keys []string
	for _, id := range Identities(p) {
		if strings.EqualFold(strings.TrimSpace(id.Address), address) {
			keys = append(keys, id.Key)
		}
	}
	return keys
}
