package thunderbird

import (
	"context"
	"fmt"
	"strings"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/clients/thunderbird/prefs"
)

// Revert undoes Apply for address in every profile: the identity prefs get
// the values they had before endymail's first change, and the certificate,
// key, CA (unless another configured address uses it), keyring entries and
// acceptance row endymail added are removed. A profile endymail never
// configured for address is left alone; reverting twice changes nothing.
func (c *Configurator) Revert(ctx context.Context, address string) (clients.Report, error) {
	rep := clients.Report{Client: ClientName}
	dirs, err := c.profileDirs()
	rep.Location = dirs
	if err != nil {
		return rep, err
	}
	key := strings.ToLower(strings.TrimSpace(address))
	var todo []string
	for _, dir := range dirs {
		if err := checkNotRunning(dir); err != nil {
			return rep, err
		}
		st, err := loadState(dir)
		if err != nil {
			return rep, err
		}
		if st.Addresses[key] != nil {
			todo = append(todo, dir)
		}
	}
	if len(todo) == 0 {
		return rep, nil
	}
	tools, err := findNSS(c.opts.InstallDir)
	if err != nil {
		return rep, err
	}
	for _, dir := range todo {
		if err := c.revertProfile(ctx, tools, dir, key, &rep); err != nil {
			return rep, fmt.Errorf("thunderbird profile %s: %w", dir, err)
		}
	}
	return rep, nil
}

func (c *Configurator) revertProfile(ctx context.Context, tools nssDB, dir, key string, rep *clients.Report) error {
	st, err := loadState(dir)
	if err != nil {
		return err
	}
	pf, err := readPrefs(dir)
	if err != nil {
		return err
	}
	as := st.Addresses[key]
	s, err := newStage(dir)
	if err != nil {
		return err
	}
	defer s.cleanup()
	if err := s.revertNSS(ctx, tools, st, key, as); err != nil {
		return err
	}
	if err := s.revertOpenPGP(ctx, as); err != nil {
		return err
	}
	var changes []prefs.Change
	for _, name := range as.Prefs {
		if st.prefInUse(name, key) {
			continue
		}
		orig := st.Prefs[name]
		changes = append(changes, prefs.Change{Name: name, Literal: orig.Literal, Delete: !orig.Existed})
		delete(st.Prefs, name)
	}
	delete(st.Addresses, key)
	newPrefs := pf.Edit(changes)
	if string(newPrefs) == string(pf.Bytes()) {
		newPrefs = nil
	} else {
		s.did("%s: restored %d prefs for %s", dir, len(changes), key)
	}
	s.did("%s: endymail no longer configures %s", dir, key)
	if err := s.commit(c.opts.Now(), st, newPrefs, manifest{Address: key, Actions: s.actions, Prefs: st.Prefs}); err != nil {
		return err
	}
	rep.Actions = append(rep.Actions, s.actions...)
	if len(st.Addresses) == 0 {
		return pruneBackups(dir)
	}
	return nil
}

// revertNSS deletes the leaf certificate and key, and the CA when no other
// configured address shares it.
func (s *stage) revertNSS(ctx context.Context, tools nssDB, st *profileState, key string, as *addrState) error {
	if as.CertNick == "" || !fileExists(s.orig(certDB)) {
		return nil
	}
	if err := s.stageNSS(ctx, tools); err != nil {
		return err
	}
	for _, del := range []struct {
		nick    string
		withKey bool
	}{{as.CertNick, true}, {as.CANick, false}} {
		if del.nick == "" || !del.withKey && st.nickInUse(del.nick, key) {
			continue
		}
		certs, err := tools.certsByNick(ctx, s.dir, del.nick)
		if err != nil {
			return err
		}
		if len(certs) == 0 {
			continue
		}
		if err := tools.deleteNick(ctx, s.dir, del.nick, del.withKey); err != nil {
			return err
		}
		s.nssChanged("%s: removed %q from the NSS database", s.profile, del.nick)
	}
	return nil
}

// revertOpenPGP removes the keys endymail added from both keyrings and
// restores the acceptance decisions they had.
func (s *stage) revertOpenPGP(ctx context.Context, as *addrState) error {
	for _, rec := range as.OpenPGP {
		if rec.Preexisting {
			continue
		}
		for _, name := range []string{secringFile, pubringFile} {
			blocks, err := s.readKeyring(name)
			if err != nil {
				return err
			}
			if _, ok := findKey(blocks, rec.Fingerprint); !ok {
				continue
			}
			if err := s.write(name, withoutKey(blocks, rec.Fingerprint)); err != nil {
				return err
			}
			s.did("%s: removed OpenPGP key %s from %s", s.profile, rec.Fingerprint, name)
		}
	}
	if !fileExists(s.orig(acceptanceDB)) {
		return nil
	}
	if _, err := s.copyIn(acceptanceDB); err != nil {
		return err
	}
	db, err := openAcceptance(ctx, s.path(acceptanceDB))
	if err != nil {
		return err
	}
	defer db.Close()
	for _, rec := range as.OpenPGP {
		d, err := decision(ctx, db, rec.Fingerprint)
		if err != nil {
			return err
		}
		if d == rec.PriorDecision {
			continue
		}
		if err := setDecision(ctx, db, rec.Fingerprint, rec.PriorDecision); err != nil {
			return err
		}
		s.changed[acceptanceDB] = true
		s.did("%s: restored the acceptance of OpenPGP key %s", s.profile, rec.Fingerprint)
	}
	return nil
}
