// Package gnupg configures a GnuPG home (the keyring Evolution, KMail,
// Claws Mail and Mutt use) for end-to-end encrypted mail: it imports the
// address's OpenPGP secret key with the real gpg 2.2 and sets its
// ownertrust to ultimate, so those clients find the key by the sender's
// address and treat it as the user's own.
//
// Use [New] for a [Configurator] (a clients.Configurator) over $GNUPGHOME,
// ~/.gnupg, or the folder named in [Options].
//
// What counts as an identity: the addresses on the user IDs of the home's
// secret keys. A keyring has no accounts, so Apply configures any enabled
// address in an existing home: the key endymail publishes for it must be
// there for the user's GnuPG-based client to decrypt mail sent to it, even
// when the user also has a key of their own for the address (gpg then signs
// with whichever it finds first and decrypts with either). A missing home
// fails with clients.ErrNoIdentity: endymail never creates a GnuPG home.
//
// What is changed: the keyring (pubring.kbx), the agent's
// private-keys-v1.d and the trust database, all through gpg itself.
// gpg.conf is never touched: no default-key is added, the clients pick
// the key by address. The secret key stays as it came (without a
// passphrase): gpg keeps an imported unprotected key unprotected, and
// asking for a passphrase would be the setup endymail exists to avoid.
// S/MIME (gpgsm) is not configured; Apply lists it in Report.Deferred.
//
// Safety: nothing is written while a gpg holds a keyring or trustdb lock
// (clients.ErrClientRunning), nor into a keybox that does not parse
// (clients.ErrCorrupt). Before each change pubring.kbx, trustdb.gpg, the
// exported ownertrust and the listing of private-keys-v1.d are copied to
// HOME/endymail-backup/<time>/, and HOME/endymail-backup/state.json records
// which keys endymail added and the ownertrust they had, so that Revert
// deletes exactly those keys and restores the ownertrust. A key that was in
// the home before endymail is never deleted. The lock check reads gpg's
// PID dotlocks (Unix); on other platforms a lock file found in the home
// makes Apply and Revert fail with an error wrapping errors.ErrUnsupported.
package gnupg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/endymail/endymail/clients"
)

// ClientName is the Client of every [clients.Identity] and
// [clients.Report] of this package.
const ClientName = "gnupg"

// Files of a GnuPG home this package reads or changes.
const (
	pubringKBX = "pubring.kbx"
	pubringGPG = "pubring.gpg" // gpg 1.x keyring, still used when present
	trustDB    = "trustdb.gpg"
	keysDir    = "private-keys-v1.d"
	backupDir  = "endymail-backup"
	stateFile  = "state.json"
)

// Options select the GnuPG home and the gpg binary. The zero value uses
// $GNUPGHOME, else ~/.gnupg, and gpg from PATH.
type Options struct {
	// Home is the GnuPG home folder; "" means $GNUPGHOME, else ~/.gnupg.
	Home string
	// GPG is the gpg program; "" means "gpg" in PATH.
	GPG string
	// Now is the clock for backup folder names; nil means time.Now.
	Now func() time.Time
}

// Configurator configures one GnuPG home.
type Configurator struct {
	opts Options
}

var _ clients.Configurator = (*Configurator)(nil)

// New returns a Configurator. It looks for the home and gpg on each call.
func New(opts Options) *Configurator {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Configurator{opts: opts}
}

// Home returns the GnuPG home the Configurator works on.
func (c *Configurator) Home() (string, error) {
	if c.opts.Home != "" {
		return c.opts.Home, nil
	}
	if h := os.Getenv("GNUPGHOME"); h != "" {
		return h, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("gnupg home: %w", err)
	}
	return filepath.Join(home, ".gnupg"), nil
}

// open returns the home and gpg, or exists=false when there is no home.
func (c *Configurator) open() (g gpg, exists bool, err error) {
	home, err := c.Home()
	if err != nil {
		return gpg{}, false, err
	}
	fi, err := os.Stat(home)
	if errors.Is(err, os.ErrNotExist) {
		return gpg{home: home}, false, nil
	}
	if err != nil {
		return gpg{home: home}, false, fmt.Errorf("gnupg home: %w", err)
	}
	if !fi.IsDir() {
		return gpg{home: home}, false, fmt.Errorf("gnupg home %s is not a folder", home)
	}
	g, err = findGPG(c.opts.GPG, home)
	if err != nil {
		return gpg{home: home}, true, err
	}
	return g, true, nil
}

// Identities lists one identity per secret key and address. Enabled marks
// the keys endymail added or manages. A missing home has none.
func (c *Configurator) Identities(ctx context.Context) ([]clients.Identity, error) {
	g, exists, err := c.open()
	if err != nil || !exists {
		return nil, err
	}
	keys, err := g.secretKeys(ctx)
	if err != nil {
		return nil, err
	}
	st, err := loadState(g.home)
	if err != nil {
		return nil, err
	}
	var ids []clients.Identity
	for _, k := range keys {
		for _, uid := range k.UserIDs {
			addr := uidAddress(uid)
			if addr == "" {
				continue
			}
			ids = append(ids, clients.Identity{
				Client: ClientName, Location: g.home, Account: k.Fingerprint,
				Address: addr, Name: uidName(uid), Enabled: st.manages(k.Fingerprint),
			})
		}
	}
	return ids, nil
}
