package gnupg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/endymail/endymail/clients"
)

// Ownertrust values (gnupg g10/trustdb.h): the low four bits are the trust
// level, the high bits flags such as "disabled", which Apply keeps.
const (
	trustMask     = 0x0f
	trustUltimate = 6
)

// Apply imports m's OpenPGP secret key and makes its ownertrust ultimate.
// See [clients.Configurator] for the contract and the package comment for
// what counts as an identity.
func (c *Configurator) Apply(ctx context.Context, m clients.Material) (clients.Report, error) {
	rep := clients.Report{Client: ClientName}
	if err := m.Validate(); err != nil {
		return rep, err
	}
	address := strings.TrimSpace(m.Address)
	g, keys, err := c.prepare(ctx, &rep)
	if err != nil {
		return rep, err
	}
	if m.SMIME != nil {
		rep.Deferred = append(rep.Deferred, "S/MIME: endymail does not import certificates into gpgsm yet; use Thunderbird or the system store for S/MIME")
	}
	if m.OpenPGP == nil {
		return rep, nil
	}
	if err := checkMaterial(ctx, g, m.OpenPGP); err != nil {
		return rep, err
	}
	return rep, c.applyKey(ctx, g, keys, address, m.OpenPGP, &rep)
}

// prepare finds the home and gpg, refuses a locked home or a corrupt
// keybox, and lists the secret keys. A missing home has no identity.
func (c *Configurator) prepare(ctx context.Context, rep *clients.Report) (gpg, []key, error) {
	g, exists, err := c.open()
	if g.home != "" {
		rep.Location = []string{g.home}
	}
	if err != nil {
		return g, nil, err
	}
	if !exists {
		return g, nil, fmt.Errorf("gnupg: no home at %s: %w", g.home, clients.ErrNoIdentity)
	}
	if err := checkNotLocked(g.home); err != nil {
		return g, nil, err
	}
	if err := checkKeyboxFile(g.home); err != nil {
		return g, nil, err
	}
	keys, err := g.secretKeys(ctx)
	if err != nil {
		return g, nil, fmt.Errorf("list secret keys in %s: %w", g.home, err)
	}
	return g, keys, nil
}

// checkKeyboxFile checks HOME/pubring.kbx when there is one.
func checkKeyboxFile(home string) error {
	b, err := os.ReadFile(filepath.Join(home, pubringKBX))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := checkKeybox(b); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(home, pubringKBX), err)
	}
	return nil
}

// checkMaterial lets gpg read the secret key without importing it
// (--show-keys): it must hold exactly one key, with a secret part, whose
// fingerprint is the one the material names. Its errors wrap
// [clients.ErrCorrupt].
func checkMaterial(ctx context.Context, g gpg, p *clients.OpenPGP) error {
	out, err := g.output(ctx, p.Secret, "--no-auto-check-trustdb", "--with-colons", "--fixed-list-mode", "--show-keys")
	if err != nil {
		return fmt.Errorf("invalid material: gpg cannot read the secret key: %v: %w", err, clients.ErrCorrupt)
	}
	keys := parseColons(out)
	if len(keys) != 1 || !keys[0].Secret || keys[0].Fingerprint != p.Fingerprint {
		return fmt.Errorf("invalid material: the secret key is not exactly the one key %s: %w", p.Fingerprint, clients.ErrCorrupt)
	}
	return nil
}

// applyKey imports the key unless its secret is already usable and raises
// its ownertrust to ultimate unless it is, recording first what was there.
func (c *Configurator) applyKey(ctx context.Context, g gpg, secret []key, address string, p *clients.OpenPGP, rep *clients.Report) error {
	fpr := p.Fingerprint
	public, err := g.publicKeys(ctx)
	if err != nil {
		return fmt.Errorf("list keys in %s: %w", g.home, err)
	}
	trust, err := g.ownertrust(ctx)
	if err != nil {
		return fmt.Errorf("read ownertrust in %s: %w", g.home, err)
	}
	st, err := loadState(g.home)
	if err != nil {
		return err
	}
	k := find(secret, fpr)
	hadSecret := k != nil && k.SecretUsable
	trusted := trust[fpr]&trustMask == trustUltimate
	rec := st.record(address, fpr)
	if hadSecret && trusted {
		if rec != nil {
			return nil
		}
		// The key was fully in place before endymail: remember it as
		// managed, with nothing for Revert to undo.
		return st.add(g.home, address, keyRecord{Fingerprint: fpr, HadPublic: true, HadSecret: true, Ownertrust: trust[fpr]})
	}
	if err := checkWritable(g.home); err != nil {
		return err
	}
	if _, err := backup(ctx, g, c.opts.Now()); err != nil {
		return fmt.Errorf("back up %s: %w", g.home, err)
	}
	if rec == nil {
		r := keyRecord{Fingerprint: fpr, HadPublic: find(public, fpr) != nil, HadSecret: hadSecret, Ownertrust: trust[fpr]}
		if err := st.add(g.home, address, r); err != nil {
			return err
		}
	}
	if !hadSecret {
		if err := importSecret(ctx, g, p, find(public, fpr) != nil); err != nil {
			return err
		}
		rep.Actions = append(rep.Actions, fmt.Sprintf("imported the secret key %s for %s into %s", fpr, address, g.home))
	}
	if !trusted {
		if err := setOwnertrust(ctx, g, fpr, trust[fpr]&^trustMask|trustUltimate); err != nil {
			return err
		}
		rep.Actions = append(rep.Actions, fmt.Sprintf("set the ownertrust of %s to ultimate", fpr))
	}
	return nil
}

// add appends r to the records of address and saves the state.
func (st *homeState) add(home, address string, r keyRecord) error {
	a := strings.ToLower(address)
	st.Addresses[a] = append(st.Addresses[a], r)
	return st.save(home)
}

// checkWritable fails with an error naming the home when a file cannot be
// made in it.
func checkWritable(home string) error {
	f, err := os.CreateTemp(home, ".endymail-write-check*")
	if err != nil {
		return fmt.Errorf("gnupg home %s is not writable: %w", home, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// importSecret imports the secret key and checks, from gpg's status lines
// and then from a fresh listing, that the primary key and every subkey are
// usable. When they are not, it deletes what the import added: the secret
// key, and the public key too unless hadPublic.
func importSecret(ctx context.Context, g gpg, p *clients.OpenPGP, hadPublic bool) error {
	lines, err := g.status(ctx, p.Secret, "--import")
	if err == nil {
		err = importResult(lines, p.Fingerprint)
	}
	if err == nil {
		err = checkSecretUsable(ctx, g, p.Fingerprint)
	}
	if err == nil {
		return nil
	}
	if _, derr := deleteKey(ctx, g, p.Fingerprint, !hadPublic); derr != nil {
		return fmt.Errorf("import %s into %s: %w (and removing the partial import failed: %v)", p.Fingerprint, g.home, err, derr)
	}
	return fmt.Errorf("import %s into %s: %w", p.Fingerprint, g.home, err)
}

// importResult reads the status lines of an --import: IMPORT_OK must name
// fpr and no IMPORT_PROBLEM may appear.
func importResult(lines []statusLine, fpr string) error {
	ok := false
	for _, l := range lines {
		switch l.Keyword {
		case "IMPORT_OK":
			if len(l.Args) >= 2 && strings.EqualFold(l.Args[1], fpr) {
				ok = true
			}
		case "IMPORT_PROBLEM":
			return fmt.Errorf("gpg reported IMPORT_PROBLEM %s", strings.Join(l.Args, " "))
		}
	}
	if !ok {
		return fmt.Errorf("gpg reported no IMPORT_OK for %s", fpr)
	}
	return nil
}

// checkSecretUsable lists the secret keys and checks fpr's.
func checkSecretUsable(ctx context.Context, g gpg, fpr string) error {
	keys, err := g.secretKeys(ctx)
	if err != nil {
		return err
	}
	if k := find(keys, fpr); k == nil || !k.SecretUsable {
		return fmt.Errorf("the secret key %s is not usable after the import", fpr)
	}
	return nil
}
