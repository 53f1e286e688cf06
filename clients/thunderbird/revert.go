package thunderbird

import (
	"context"
	"crypto/x509"
	"database/sql"
	"fmt"
	"slices"
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
		st, err := loadState(dir)
		if err != nil {
			return rep, err
		}
		if st.Addresses[key] != nil {
			todo = append(todo, dir)
		}
	}
	if len(todo) == 0 {
		return rep, nil // nothing of ours: no need for Thunderbird to be closed
	}
	for _, dir := range todo {
		if err := checkNotRunning(dir); err != nil {
			return rep, err
		}
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
	st, unlock, err := lockState(dir)
	if err != nil {
		return err
	}
	defer unlock()
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

// RevertPeers undoes ImportPeers in every profile, from the record each
// import left in the profile's state: a correspondent's key endymail added
// to pubring.gpg is removed (one it replaced is put back), the acceptance
// it wrote is deleted, a certificate it added to the NSS database is
// deleted and one it trusted gets its old trust back. What the user
// decided stays: a key whose acceptance, or a certificate whose trust, is
// no longer what endymail wrote is left as it is (with a warning), and so is
// a key that changed in pubring.gpg since. See [clients.Contacts]; like
// Revert, it refuses to start while any profile it would change is in use,
// and changes each profile as a whole or not at all. With nothing
// recorded it writes nothing and succeeds, Thunderbird running or not.
func (c *Configurator) RevertPeers(ctx context.Context) (clients.Report, error) {
	rep := clients.Report{Client: ClientName}
	dirs, err := c.profileDirs()
	rep.Location = dirs
	if err != nil {
		return rep, err
	}
	var todo []string
	needNSS := false
	for _, dir := range dirs {
		st, err := loadState(dir)
		if err != nil {
			return rep, err
		}
		if !st.Peers.empty() {
			todo = append(todo, dir)
			needNSS = needNSS || len(st.Peers.SMIME) > 0
		}
	}
	for _, dir := range todo {
		if err := checkNotRunning(dir); err != nil {
			return rep, err
		}
	}
	var tools nss
	if needNSS {
		if tools, err = findNSS(c.opts.InstallDir); err != nil {
			return rep, err
		}
	}
	for _, dir := range todo {
		if err := c.revertPeersProfile(ctx, tools, dir, &rep); err != nil {
			return rep, fmt.Errorf("thunderbird profile %s: %w", dir, err)
		}
	}
	return rep, nil
}

func (c *Configurator) revertPeersProfile(ctx context.Context, tools nssDB, dir string, rep *clients.Report) error {
	st, unlock, err := lockState(dir)
	if err != nil {
		return err
	}
	defer unlock()
	s, err := newStage(dir)
	if err != nil {
		return err
	}
	defer s.cleanup()
	w, err := s.revertPeerKeys(ctx, st.Peers.OpenPGP)
	if err != nil {
		return err
	}
	rep.Warnings = append(rep.Warnings, w...)
	if w, err = s.revertPeerCerts(ctx, tools, st.Peers.SMIME); err != nil {
		return err
	}
	rep.Warnings = append(rep.Warnings, w...)
	st.Peers = nil
	s.did("%s: endymail keeps no correspondents' keys here any more", dir)
	if err := s.commit(c.opts.Now(), st, nil, manifest{Address: peersManifest, Actions: s.actions, Prefs: st.Prefs}); err != nil {
		return err
	}
	rep.Actions = append(rep.Actions, s.actions...)
	if len(st.Addresses) == 0 {
		return pruneBackups(dir)
	}
	return nil
}

// revertPeerKeys takes the recorded OpenPGP imports out of the staged
// keyring and openpgp.sqlite. It returns warnings for what it left because
// the user changed it.
func (s *stage) revertPeerKeys(ctx context.Context, recs []peerKeyRecord) ([]string, error) {
	if len(recs) == 0 || !fileExists(s.orig(acceptanceDB)) {
		return nil, nil
	}
	db, err := s.stagedAcceptance(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var warnings []string
	for _, rec := range recs {
		d, err := decision(ctx, db, rec.Fingerprint)
		if err != nil {
			return nil, err
		}
		if d != rec.Decision {
			gone, err := s.keyDeleted(rec, d)
			if err != nil {
				return nil, err
			}
			if gone {
				if err := s.dropEmailRow(ctx, db, rec); err != nil {
					return nil, err
				}
				continue
			}
			warnings = append(warnings, fmt.Sprintf("%s: OpenPGP key %s of %s is now %q (endymail left it %q): key and decision kept",
				s.profile, rec.Fingerprint, rec.Address, orNone(d), orNone(rec.Decision)))
			continue
		}
		if rec.Accepted {
			if err := unaccept(ctx, db, rec); err != nil {
				return nil, err
			}
			s.changed[acceptanceDB] = true
			s.did("%s: removed the acceptance of OpenPGP key %s for %s", s.profile, rec.Fingerprint, rec.Address)
		}
		w, err := s.restorePeerKey(rec)
		if err != nil {
			return nil, err
		}
		warnings = append(warnings, w...)
	}
	return warnings, nil
}

// keyDeleted reports whether the user deleted the key endymail added (it
// is gone from pubring.gpg together with its decision): nothing to undo.
func (s *stage) keyDeleted(rec peerKeyRecord, d string) (bool, error) {
	if d != "" || rec.Wrote == "" {
		return false, nil
	}
	pub, err := s.readKeyring(pubringFile)
	if err != nil {
		return false, err
	}
	_, present := findKey(pub, rec.Fingerprint)
	return !present, nil
}

func orNone(d string) string {
	if d == "" {
		return "undecided"
	}
	return d
}

// unaccept deletes the decision endymail wrote, and the address row when
// endymail added it.
func unaccept(ctx context.Context, db *sql.DB, rec peerKeyRecord) error {
	if err := setDecision(ctx, db, rec.Fingerprint, ""); err != nil {
		return err
	}
	_, err := deleteEmailRow(ctx, db, rec)
	return err
}

// dropEmailRow deletes the address row endymail added for a key the user
// deleted since, when it is still there.
func (s *stage) dropEmailRow(ctx context.Context, db *sql.DB, rec peerKeyRecord) error {
	n, err := deleteEmailRow(ctx, db, rec)
	if err == nil && n > 0 {
		s.changed[acceptanceDB] = true
		s.did("%s: removed the address %s endymail had recorded for the deleted OpenPGP key %s", s.profile, rec.Address, rec.Fingerprint)
	}
	return err
}

// deleteEmailRow deletes (fingerprint, address) when endymail added it,
// and returns how many rows went.
func deleteEmailRow(ctx context.Context, db *sql.DB, rec peerKeyRecord) (int64, error) {
	if !rec.Email {
		return 0, nil
	}
	res, err := db.ExecContext(ctx, `delete from acceptance_email where fpr = ? and email = ?`, strings.ToLower(rec.Fingerprint), rec.Address)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", acceptanceDB, err)
	}
	return res.RowsAffected()
}

// restorePeerKey puts back in the staged pubring.gpg what the key block
// endymail wrote replaced (nothing, or the key as it was), unless the
// block is no longer endymail's.
func (s *stage) restorePeerKey(rec peerKeyRecord) ([]string, error) {
	if rec.Wrote == "" {
		return nil, nil
	}
	pub, err := s.readKeyring(pubringFile)
	if err != nil {
		return nil, err
	}
	cur, ok := findKey(pub, rec.Fingerprint)
	switch {
	case !ok:
		return nil, nil
	case digest(cur.raw) != rec.Wrote:
		return []string{fmt.Sprintf("%s: OpenPGP key %s of %s changed in %s after endymail imported it; kept", s.profile, rec.Fingerprint, rec.Address, pubringFile)}, nil
	case rec.Prior != nil:
		if err := s.write(pubringFile, withKey(pub, keyBlock{raw: rec.Prior, fingerprint: rec.Fingerprint})); err != nil {
			return nil, err
		}
		s.did("%s: put back the OpenPGP key %s of %s as it was before endymail", s.profile, rec.Fingerprint, rec.Address)
	default:
		if err := s.write(pubringFile, withoutKey(pub, rec.Fingerprint)); err != nil {
			return nil, err
		}
		s.did("%s: removed OpenPGP key %s of %s from %s", s.profile, rec.Fingerprint, rec.Address, pubringFile)
	}
	return nil, nil
}

// revertPeerCerts takes the recorded S/MIME imports out of the staged NSS
// database: a certificate endymail added is deleted when it still has
// endymail's trust and its nickname holds only such certificates (NSS
// files a certificate under the nickname of another with the same
// subject); otherwise it loses the trust. A certificate that was there
// gets its old trust back.
func (s *stage) revertPeerCerts(ctx context.Context, tools nssDB, recs []peerCertRecord) ([]string, error) {
	if len(recs) == 0 || !fileExists(s.orig(certDB)) {
		return nil, nil
	}
	if err := s.stageNSS(ctx, tools); err != nil {
		return nil, err
	}
	trusts := make([]string, len(recs))
	deletable := map[string]bool{}
	for i, rec := range recs {
		c := &x509.Certificate{Raw: rec.DER}
		trust, present, err := tools.mailTrust(ctx, s.dir, rec.Address, c)
		if err != nil {
			return nil, err
		}
		if !present {
			trust = ""
		}
		trusts[i] = trust
		deletable[string(rec.DER)] = present && trust == peerTrust && rec.PriorTrust == ""
	}
	var warnings []string
	for i, rec := range recs {
		switch {
		case trusts[i] == "":
		case trusts[i] != peerTrust:
			warnings = append(warnings, fmt.Sprintf("%s: the trust of %s's S/MIME certificate is now %q (endymail set %q); kept", s.profile, rec.Address, trusts[i], peerTrust))
		case rec.PriorTrust != "":
			if err := tools.addCert(ctx, s.dir, rec.Nick, rec.PriorTrust, rec.DER); err != nil {
				return nil, err
			}
			s.nssChanged("%s: gave %s's S/MIME certificate its trust before endymail back (%s)", s.profile, rec.Address, rec.PriorTrust)
		default:
			w, err := s.removePeerCert(ctx, tools, rec, deletable)
			if err != nil {
				return nil, err
			}
			warnings = append(warnings, w...)
		}
	}
	return warnings, nil
}

// removePeerCert deletes the certificate endymail added, by its nickname
// when every certificate under it is one endymail added; else it only takes
// the trust away.
func (s *stage) removePeerCert(ctx context.Context, tools nssDB, rec peerCertRecord, deletable map[string]bool) ([]string, error) {
	ders, err := tools.certsByNick(ctx, s.dir, rec.Nick)
	if err != nil {
		return nil, err
	}
	if !containsDER(ders, rec.DER) {
		// Deleted already with another certificate under its nickname, or
		// filed by NSS under another certificate's nickname.
		if _, present, err := tools.mailTrust(ctx, s.dir, rec.Address, &x509.Certificate{Raw: rec.DER}); err != nil || !present {
			return nil, err
		}
	} else if !slices.ContainsFunc(ders, func(d []byte) bool { return !deletable[string(d)] }) {
		if err := tools.deleteNick(ctx, s.dir, rec.Nick, false); err != nil {
			return nil, err
		}
		s.nssChanged("%s: removed %s's S/MIME certificate %q", s.profile, rec.Address, rec.Nick)
		return nil, nil
	}
	if err := tools.addCert(ctx, s.dir, rec.Nick, ",,", rec.DER); err != nil {
		return nil, err
	}
	s.nssChanged("%s: took endymail's trust from %s's S/MIME certificate", s.profile, rec.Address)
	return []string{fmt.Sprintf("%s: %s's S/MIME certificate stays, untrusted: NSS keeps it under a nickname it shares with other certificates", s.profile, rec.Address)}, nil
}
