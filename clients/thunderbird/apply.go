package thunderbird

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/clients/thunderbird/prefs"
)

// target is a profile with identities for the address being configured.
type target struct {
	dir        string
	prefs      *prefs.File
	src        []byte // prefs.js as read
	identities []string
}

// targets checks that no profile is in use and returns those with an
// identity for address. Nothing is written.
func (c *Configurator) targets(address string) ([]target, []string, error) {
	dirs, err := c.profileDirs()
	if err != nil {
		return nil, nil, err
	}
	for _, dir := range dirs {
		if err := checkNotRunning(dir); err != nil {
			return nil, dirs, err
		}
	}
	var ts []target
	for _, dir := range dirs {
		p, err := readPrefs(dir)
		if err != nil {
			return nil, dirs, err
		}
		if ids := identitiesFor(p, address); len(ids) > 0 {
			ts = append(ts, target{dir: dir, prefs: p, src: p.Bytes(), identities: ids})
		}
	}
	if len(ts) == 0 {
		return nil, dirs, fmt.Errorf("thunderbird: %s in %d profile(s): %w", address, len(dirs), clients.ErrNoIdentity)
	}
	return ts, dirs, nil
}

// Apply configures every identity with m.Address in every profile. See
// [clients.Configurator] for the contract; each profile is changed as a
// whole or not at all, and a profile in use stops the run before any write. On a profile that has never
// started (no key4.db or encrypted-openpgp-passphrase.txt) the OpenPGP part
// is deferred and listed in Report.Deferred: apply again after Thunderbird
// has run once.
func (c *Configurator) Apply(ctx context.Context, m clients.Material) (clients.Report, error) {
	rep := clients.Report{Client: ClientName}
	if err := m.Validate(); err != nil {
		return rep, err
	}
	m.Address = strings.TrimSpace(m.Address)
	ts, dirs, err := c.targets(m.Address)
	rep.Location = dirs
	if err != nil {
		return rep, err
	}
	tools, err := findNSS(c.opts.InstallDir)
	if err != nil {
		return rep, err
	}
	for _, t := range ts {
		if err := c.applyProfile(ctx, tools, t, m, &rep); err != nil {
			return rep, fmt.Errorf("thunderbird profile %s: %w", t.dir, err)
		}
	}
	return rep, nil
}

// smimeResult is what the identity prefs need from the NSS step.
type smimeResult struct {
	nick, dbkey string
}

func (c *Configurator) applyProfile(ctx context.Context, tools nssDB, t target, m clients.Material, rep *clients.Report) error {
	st, unlock, err := lockState(t.dir)
	if err != nil {
		return err
	}
	defer unlock()
	before := st.marshal()
	s, err := newStage(t.dir)
	if err != nil {
		return err
	}
	defer s.cleanup()
	key := strings.ToLower(m.Address)
	as := st.Addresses[key]
	if as == nil {
		as = &addrState{}
	}
	var sm *smimeResult
	if m.SMIME != nil {
		if sm, err = s.applySMIME(ctx, tools, m.SMIME, key, as); err != nil {
			return err
		}
	}
	pgp := false
	if m.OpenPGP != nil {
		if pgp, err = s.applyOpenPGP(ctx, tools, m.OpenPGP, as); err != nil {
			return err
		}
		if !pgp {
			rep.Deferred = append(rep.Deferred, fmt.Sprintf("%s: OpenPGP key for %s waits until Thunderbird has started once with this profile (no %s yet)", t.dir, m.Address, passphraseFile))
		}
	}
	changes := identityPrefs(t.identities, m, sm, pgp)
	rep.Warnings = append(rep.Warnings, userJSOverrides(t.dir, changes)...)
	edits := recordPrefs(st, as, t.prefs, changes)
	newPrefs := t.prefs.Edit(edits)
	for _, id := range t.identities {
		if !slices.Contains(as.Identities, id) {
			as.Identities = append(as.Identities, id)
		}
	}
	if len(changes) > 0 || sm != nil || pgp {
		st.Addresses[key] = as
	}
	prefsChanged := !bytes.Equal(newPrefs, t.src)
	if !prefsChanged && len(s.changed) == 0 && bytes.Equal(before, st.marshal()) {
		return nil
	}
	if prefsChanged {
		s.did("%s: set %d prefs for %s (identities %s)", t.dir, len(edits), m.Address, strings.Join(t.identities, ", "))
	} else {
		newPrefs = nil
	}
	if err := s.commit(c.opts.Now(), st, newPrefs, manifest{Address: m.Address, Actions: s.actions, Prefs: st.Prefs}); err != nil {
		return err
	}
	rep.Actions = append(rep.Actions, s.actions...)
	return nil
}

// manifest is written beside each backup: what the backup is for and the
// pref values before endymail's first change.
type manifest struct {
	Address string              `json:"address"`
	Actions []string            `json:"actions"`
	Prefs   map[string]origPref `json:"original_prefs"`
}

// recordPrefs remembers, before the first change, each pref's original
// literal, and turns the wanted values into edits.
func recordPrefs(st *profileState, as *addrState, p *prefs.File, want []prefSet) []prefs.Change {
	var out []prefs.Change
	for _, w := range want {
		if _, ok := st.Prefs[w.name]; !ok {
			raw, existed := p.Raw(w.name)
			st.Prefs[w.name] = origPref{Existed: existed, Literal: raw}
		}
		if !slices.Contains(as.Prefs, w.name) {
			as.Prefs = append(as.Prefs, w.name)
		}
		if v, ok := p.Get(w.name); !ok || v != w.value {
			out = append(out, prefs.Change{Name: w.name, Literal: w.value.Literal()})
		}
	}
	return out
}

// userJSOverrides warns about prefs that the profile's user.js sets to
// other values: Thunderbird applies user.js over prefs.js at every start.
func userJSOverrides(dir string, want []prefSet) []string {
	src, err := os.ReadFile(filepath.Join(dir, "user.js"))
	if err != nil {
		return nil
	}
	u, err := prefs.Parse(src)
	if err != nil {
		return []string{fmt.Sprintf("%s: user.js is unreadable (%v); it may override endymail's prefs", dir, err)}
	}
	var out []string
	for _, w := range want {
		if v, ok := u.Get(w.name); ok && v != w.value {
			out = append(out, fmt.Sprintf("%s: user.js sets %s to %s, overriding %s at every start", dir, w.name, v.Literal(), w.value.Literal()))
		}
	}
	return out
}

type prefSet struct {
	name  string
	value prefs.Value
}

// identityPrefs are the prefs that turn on signing and automatic
// encryption for the identities: certificates by dbkey, the OpenPGP key id,
// the preferred technology, sign_mail, encryptionpolicy 0 (not required) with
// mail.e2ee.auto_enable so that encryption turns on by itself when every
// recipient has a key, and off again (auto_disable) when one has none.
func identityPrefs(ids []string, m clients.Material, sm *smimeResult, pgp bool) []prefSet {
	if sm == nil && !pgp {
		return nil
	}
	tech := int32(2)
	if sm != nil && (!pgp || m.Prefer == clients.PreferSMIME) {
		tech = 1
	}
	var out []prefSet
	for _, id := range ids {
		p := "mail.identity." + id + "."
		if sm != nil {
			out = append(out,
				prefSet{p + "signing_cert_name", prefs.StringValue(sm.nick)},
				prefSet{p + "signing_cert_dbkey", prefs.StringValue(sm.dbkey)},
				prefSet{p + "encryption_cert_name", prefs.StringValue(sm.nick)},
				prefSet{p + "encryption_cert_dbkey", prefs.StringValue(sm.dbkey)})
		}
		if pgp {
			out = append(out, prefSet{p + "openpgp_key_id", prefs.StringValue(m.OpenPGP.Fingerprint[24:])})
		}
		out = append(out,
			prefSet{p + "e2etechpref", prefs.IntValue(tech)},
			prefSet{p + "sign_mail", prefs.BoolValue(true)},
			prefSet{p + "encryptionpolicy", prefs.IntValue(0)})
	}
	return append(out,
		prefSet{"mail.e2ee.auto_enable", prefs.BoolValue(true)},
		prefSet{"mail.e2ee.auto_disable", prefs.BoolValue(true)})
}

// nicknames: the leaf under "endymail <address>", the CA under a name
// derived from its contents, shared by the addresses it issued.
func certNick(address string) string { return "endymail " + address }

func caNick(ca []byte) string {
	sum := sha256.Sum256(ca)
	return "endymail CA " + strings.ToUpper(hex.EncodeToString(sum[:8]))
}

// stageNSS copies the profile's NSS database into the stage, creating an
// empty one (no password, as Thunderbird makes it) for a profile that has
// never started.
func (s *stage) stageNSS(ctx context.Context, tools nssDB) error {
	if s.nssStaged {
		return nil
	}
	s.nssStaged = true
	haveCert, err := s.copyIn(certDB)
	if err != nil {
		return err
	}
	haveKey, err := s.copyIn(keyDB)
	if err != nil {
		return err
	}
	switch {
	case haveCert && haveKey:
		return nil
	case haveCert || haveKey:
		return fmt.Errorf("%s has only one of %s and %s: %w", s.profile, certDB, keyDB, clients.ErrCorrupt)
	}
	if err := tools.createDB(ctx, s.dir); err != nil {
		return err
	}
	s.changed[certDB], s.changed[keyDB] = true, true
	return nil
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return !errors.Is(err, os.ErrNotExist)
}
