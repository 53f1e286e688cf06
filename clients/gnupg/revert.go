package gnupg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/endymail/endymail/clients"
)

// Revert deletes the keys Apply imported for address (never one that was
// in the home before) and restores the ownertrust they had. See
// [clients.Configurator] for the contract. A home endymail never changed
// for address is left alone and the report lists no actions.
func (c *Configurator) Revert(ctx context.Context, address string) (clients.Report, error) {
	rep := clients.Report{Client: ClientName}
	g, exists, err := c.open()
	if g.home != "" {
		rep.Location = []string{g.home}
	}
	if err != nil || !exists {
		return rep, err
	}
	st, err := loadState(g.home)
	if err != nil {
		return rep, err
	}
	addr := strings.ToLower(strings.TrimSpace(address))
	recs := st.Addresses[addr]
	if len(recs) == 0 {
		return rep, nil // nothing of ours: the keyring may stay in use
	}
	if err := checkNotLocked(g.home); err != nil {
		return rep, err
	}
	if err := checkKeyboxFile(g.home); err != nil {
		return rep, err
	}
	if err := checkWritable(g.home); err != nil {
		return rep, err
	}
	if _, err := backup(ctx, g, c.opts.Now()); err != nil {
		return rep, fmt.Errorf("back up %s: %w", g.home, err)
	}
	for i := len(recs) - 1; i >= 0; i-- {
		if err := revertKey(ctx, g, recs[i], &rep); err != nil {
			st.Addresses[addr] = recs[:i+1]
			return rep, errors.Join(err, st.save(g.home))
		}
	}
	delete(st.Addresses, addr)
	return rep, st.save(g.home)
}

// revertKey undoes what Apply did to one key.
func revertKey(ctx context.Context, g gpg, r keyRecord, rep *clients.Report) error {
	if !r.HadSecret {
		deleted, err := deleteKey(ctx, g, r.Fingerprint, !r.HadPublic)
		if err != nil {
			return err
		}
		if deleted {
			rep.Actions = append(rep.Actions, fmt.Sprintf("deleted the key %s endymail imported", r.Fingerprint))
		}
	}
	if !r.HadPublic {
		return nil // deleting the key cleared its ownertrust
	}
	trust, err := g.ownertrust(ctx)
	if err != nil {
		return err
	}
	if trust[r.Fingerprint] == r.Ownertrust {
		return nil
	}
	if err := restoreOwnertrust(ctx, g, r.Fingerprint, r.Ownertrust, trust); err != nil {
		return err
	}
	rep.Actions = append(rep.Actions, fmt.Sprintf("restored the ownertrust of %s", r.Fingerprint))
	return nil
}

// deleteKey deletes fpr's secret key, and its public key when alsoPublic,
// and checks with a listing that they are gone. It reports whether
// anything was there to delete.
func deleteKey(ctx context.Context, g gpg, fpr string, alsoPublic bool) (bool, error) {
	secret, err := g.secretKeys(ctx)
	if err != nil {
		return false, err
	}
	public, err := g.publicKeys(ctx)
	if err != nil {
		return false, err
	}
	hasSecret, hasPublic := find(secret, fpr) != nil, find(public, fpr) != nil
	var op string
	switch {
	case hasSecret && alsoPublic:
		op = "--delete-secret-and-public-key"
	case hasSecret:
		op = "--delete-secret-keys"
	case hasPublic && alsoPublic:
		op = "--delete-keys"
	default:
		return false, nil
	}
	lines, err := g.status(ctx, nil, "--yes", op, fpr)
	for _, l := range lines {
		if l.Keyword == "DELETE_PROBLEM" {
			return false, fmt.Errorf("gpg %s %s: DELETE_PROBLEM %s", op, fpr, strings.Join(l.Args, " "))
		}
	}
	if err != nil {
		return false, err
	}
	if secret, err = g.secretKeys(ctx); err != nil {
		return false, err
	}
	if public, err = g.publicKeys(ctx); err != nil {
		return false, err
	}
	if find(secret, fpr) != nil || alsoPublic && find(public, fpr) != nil {
		return false, fmt.Errorf("gpg %s %s: the key is still listed", op, fpr)
	}
	return true, nil
}

// setOwnertrust sets fpr's ownertrust to v (non-zero) and checks it.
func setOwnertrust(ctx context.Context, g gpg, fpr string, v int) error {
	if _, err := g.status(ctx, fmt.Appendf(nil, "%s:%d:\n", fpr, v), "--import-ownertrust"); err != nil {
		return err
	}
	trust, err := g.ownertrust(ctx)
	if err != nil {
		return err
	}
	if trust[fpr] != v {
		return fmt.Errorf("ownertrust of %s is %d after setting it to %d", fpr, trust[fpr], v)
	}
	return nil
}

// restoreOwnertrust sets fpr's ownertrust back to old. gpg
// --import-ownertrust ignores a value of 0, so "none" is restored the way
// the gpg manual rebuilds a trust database: a new trustdb.gpg made by
// --import-ownertrust of every other value, renamed over the old one. The
// validity it caches is recomputed by gpg's next trust check.
func restoreOwnertrust(ctx context.Context, g gpg, fpr string, old int, trust map[string]int) error {
	if old != 0 {
		return setOwnertrust(ctx, g, fpr, old)
	}
	var lines strings.Builder
	fprs := make([]string, 0, len(trust))
	for f := range trust {
		if f != fpr {
			fprs = append(fprs, f)
		}
	}
	sort.Strings(fprs)
	for _, f := range fprs {
		fmt.Fprintf(&lines, "%s:%d:\n", f, trust[f])
	}
	tmp := filepath.Join(g.home, ".endymail-"+trustDB)
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if _, err := g.output(ctx, []byte(lines.String()), "--trustdb-name", tmp, "--import-ownertrust"); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, filepath.Join(g.home, trustDB)); err != nil {
		os.Remove(tmp)
		return err
	}
	after, err := g.ownertrust(ctx)
	if err != nil {
		return err
	}
	if after[fpr] != 0 || len(after) != len(fprs) {
		return fmt.Errorf("rebuilt %s does not hold the ownertrust it should", trustDB)
	}
	return nil
}
