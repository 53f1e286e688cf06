package thunderbird

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/endymail/endymail/clients"
)

// Correspondents' keys, and why they are stored the way they are:
//
// OpenPGP: the public key goes into pubring.gpg (a key with the same
// fingerprint is replaced, never duplicated) with the acceptance
// 'unverified' for the peer's address in openpgp.sqlite — "accepted, not
// verified", what Thunderbird's own key import offers; never 'verified',
// which only the user can say. A fingerprint that already has a decision
// (the user's, or an earlier import) is left alone.
//
// S/MIME: Thunderbird encrypts to a recipient only when its certificate
// verifies for e-mail (asyncFindCertByEmailAddr, verifyUsageEmailRecipient).
// A peer's certificate is issued by the peer's personal CA; trusting that CA
// for mail (",C,") would let whoever holds it — the peer, or anyone who
// steals the peer's CA key — issue certificates for any address that this
// user's Thunderbird would accept as valid signers. So the CA is never
// imported as a trust anchor (nor imported at all). Instead the peer's own
// leaf certificate is trusted directly for e-mail (peerTrust). mozilla::pkix
// treats it as a trust anchor for that one certificate only: the leaf has
// basicConstraints cA=false and no keyCertSign, so it can issue nothing, and
// it binds only the address in its subjectAltName. That is the trust the
// lookup chain earned (a certificate published in the peer's verified
// account log), and nothing more. Leaves that could act as a CA are
// refused.
//
// Measured with Thunderbird 153 (TestImportPeersIntoThunderbird): with the
// leaf at ",," (no trust) or ",P," (NSS's "trusted peer", which
// mozilla::pkix ignores) asyncFindCertByEmailAddr finds nothing and the
// compose window cannot encrypt; at ",C," it finds the certificate, and a
// certificate signed with the leaf's key, or by the peer's CA, for another
// address is still refused.
const peerTrust = ",C,"

// decisionUnverified is Thunderbird's "accepted (unverified)".
const decisionUnverified = "unverified"

// peerNick names a peer's certificate: the address and the start of the
// certificate's SHA-256, so that a new certificate never collides with an
// old one under the same name.
func peerNick(address string, der []byte) string {
	sum := sha256.Sum256(der)
	return "endymail peer " + address + " " + strings.ToUpper(hex.EncodeToString(sum[:4]))
}

// ImportPeers imports the peers' public keys into every profile. See
// [clients.Contacts] for the contract. Every profile is checked for a
// running Thunderbird before anything is written; each profile is changed as
// a whole (staged, backed up, renamed into place) or not at all. A profile
// that has never started has no openpgp.sqlite or NSS database yet: its
// part is listed in Report.Deferred.
func (c *Configurator) ImportPeers(ctx context.Context, peers []clients.Peer) (clients.Report, error) {
	rep := clients.Report{Client: ClientName}
	checked, err := checkPeers(peers)
	if err != nil {
		return rep, err
	}
	dirs, err := c.profileDirs()
	rep.Location = dirs
	if err != nil || len(checked) == 0 {
		return rep, err
	}
	for _, dir := range dirs {
		if err := checkNotRunning(dir); err != nil {
			return rep, err
		}
	}
	var tools nss
	for _, dir := range dirs {
		if tools == nil && hasSMIME(checked) && fileExists(filepath.Join(dir, certDB)) {
			if tools, err = findNSS(c.opts.InstallDir); err != nil {
				return rep, err
			}
		}
		if err := c.importProfile(ctx, tools, dir, checked, &rep); err != nil {
			return rep, fmt.Errorf("thunderbird profile %s: %w", dir, err)
		}
	}
	return rep, nil
}

// peerKeys is a peer after the checks: its OpenPGP key cut as one keyring
// block, its S/MIME leaf.
type peerKeys struct {
	address string
	pgp     *keyBlock
	leaf    *x509.Certificate
}

func hasSMIME(ps []peerKeys) bool {
	for _, p := range ps {
		if p.leaf != nil {
			return true
		}
	}
	return false
}

// checkPeers parses every peer's keys before anything is written. Its
// errors wrap [clients.ErrCorrupt].
func checkPeers(peers []clients.Peer) ([]peerKeys, error) {
	var out []peerKeys
	for _, p := range peers {
		addr, ok := cleanAddress(p.Address)
		if !ok {
			return nil, fmt.Errorf("peer address %q is not a mail address: %w", p.Address, clients.ErrCorrupt)
		}
		pk := peerKeys{address: addr}
		if len(p.OpenPGP) > 0 {
			b, err := peerOpenPGP(addr, p.OpenPGP)
			if err != nil {
				return nil, err
			}
			pk.pgp = b
		}
		if len(p.SMIME) > 0 {
			if err := checkPeerLeaf(addr, p.SMIME[0]); err != nil {
				return nil, err
			}
			pk.leaf = p.SMIME[0]
		}
		if pk.pgp != nil || pk.leaf != nil {
			out = append(out, pk)
		}
	}
	return out, nil
}

// peerOpenPGP checks that data is one transferable public key (no secret
// material) with a user ID for addr.
func peerOpenPGP(addr string, data []byte) (*keyBlock, error) {
	blocks, err := splitKeyring("OpenPGP key of "+addr, data)
	if err != nil {
		return nil, err
	}
	if len(blocks) != 1 {
		return nil, fmt.Errorf("OpenPGP data for %s holds %d keys, want one public key: %w", addr, len(blocks), clients.ErrCorrupt)
	}
	if p, err := packet.Read(bytes.NewReader(blocks[0].raw)); err != nil {
		return nil, fmt.Errorf("OpenPGP key of %s: %v: %w", addr, err, clients.ErrCorrupt)
	} else if _, ok := p.(*packet.PublicKey); !ok {
		return nil, fmt.Errorf("OpenPGP key of %s is not a public key: %w", addr, clients.ErrCorrupt)
	}
	e, err := openpgp.ReadEntity(packet.NewReader(bytes.NewReader(data)))
	if err != nil {
		return nil, fmt.Errorf("OpenPGP key of %s: %v: %w", addr, err, clients.ErrCorrupt)
	}
	for _, id := range e.Identities {
		if strings.EqualFold(id.UserId.Email, addr) {
			return &blocks[0], nil
		}
	}
	return nil, fmt.Errorf("OpenPGP key %s has no user ID for %s: %w", blocks[0].fingerprint, addr, clients.ErrCorrupt)
}

// checkPeerLeaf refuses a certificate that is not an end-entity mail
// certificate for addr: it is about to be trusted directly.
func checkPeerLeaf(addr string, c *x509.Certificate) error {
	if c == nil {
		return fmt.Errorf("S/MIME chain of %s has no certificate: %w", addr, clients.ErrCorrupt)
	}
	if c.IsCA || c.KeyUsage&x509.KeyUsageCertSign != 0 {
		return fmt.Errorf("S/MIME certificate of %s can issue certificates; refusing to trust it: %w", addr, clients.ErrCorrupt)
	}
	for _, e := range c.EmailAddresses {
		if strings.EqualFold(e, addr) {
			return nil
		}
	}
	return fmt.Errorf("S/MIME certificate %q is not for %s: %w", c.Subject.CommonName, addr, clients.ErrCorrupt)
}

// importProfile stages every peer's keys for one profile and commits them
// with the record of what was written (profileState.Peers).
func (c *Configurator) importProfile(ctx context.Context, tools nss, dir string, peers []peerKeys, rep *clients.Report) error {
	st, unlock, err := lockState(dir)
	if err != nil {
		return err
	}
	defer unlock()
	if st.Peers == nil {
		st.Peers = &peerImports{}
	}
	s, err := newStage(dir)
	if err != nil {
		return err
	}
	defer s.cleanup()
	pgpOK := fileExists(s.orig(acceptanceDB))
	nssOK := tools != nil && fileExists(s.orig(certDB))
	for _, p := range peers {
		var w []string
		if p.pgp != nil && !pgpOK {
			rep.Deferred = append(rep.Deferred, fmt.Sprintf("%s: OpenPGP key of %s waits until Thunderbird has started once with this profile (no %s yet)", dir, p.address, acceptanceDB))
		} else if p.pgp != nil {
			if w, err = s.importPeerOpenPGP(ctx, p.address, *p.pgp, st.Peers); err != nil {
				return err
			}
			rep.Warnings = append(rep.Warnings, w...)
		}
		if p.leaf != nil && !nssOK {
			rep.Deferred = append(rep.Deferred, fmt.Sprintf("%s: S/MIME certificate of %s waits until Thunderbird has started once with this profile (no %s yet)", dir, p.address, certDB))
		} else if p.leaf != nil {
			if w, err = s.importPeerCert(ctx, tools, c.opts.InstallDir, p.address, p.leaf, st.Peers); err != nil {
				return err
			}
			rep.Warnings = append(rep.Warnings, w...)
		}
	}
	if len(s.changed) == 0 {
		return nil
	}
	if err := s.commit(c.opts.Now(), st, nil, manifest{Address: peersManifest, Actions: s.actions, Prefs: st.Prefs}); err != nil {
		return err
	}
	rep.Actions = append(rep.Actions, s.actions...)
	return nil
}

// peersManifest is the Address of the backup manifests of ImportPeers and
// RevertPeers.
const peersManifest = "(correspondents)"

// importPeerOpenPGP puts the key into the staged pubring.gpg and accepts it
// as unverified for address, unless a decision about it exists, and
// records in imp what it wrote and what that replaced. It returns warnings
// for keys it could not make usable.
func (s *stage) importPeerOpenPGP(ctx context.Context, address string, b keyBlock, imp *peerImports) ([]string, error) {
	sec, err := s.readKeyring(secringFile)
	if err != nil {
		return nil, err
	}
	if _, own := findKey(sec, b.fingerprint); own {
		return []string{fmt.Sprintf("%s: OpenPGP key %s of %s is one of this profile's own keys; left alone", s.profile, b.fingerprint, address)}, nil
	}
	db, err := s.stagedAcceptance(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	d, err := decision(ctx, db, b.fingerprint)
	if err != nil {
		return nil, err
	}
	pub, err := s.readKeyring(pubringFile)
	if err != nil {
		return nil, err
	}
	if old, ok := findKey(pub, b.fingerprint); !ok || !bytes.Equal(old.raw, b.raw) {
		if err := s.write(pubringFile, withKey(pub, b)); err != nil {
			return nil, err
		}
		rec := imp.addPeerKey(address, b.fingerprint, d)
		if rec.Wrote == "" || !ok || digest(old.raw) != rec.Wrote {
			// What is there now is not what endymail wrote: it is what
			// a revert must bring back.
			rec.Prior = nil
			if ok {
				rec.Prior = old.raw
			}
		}
		rec.Wrote = digest(b.raw)
		s.did("%s: added OpenPGP public key %s of %s to %s", s.profile, b.fingerprint, address, pubringFile)
	}
	if d != "" {
		return nil, nil
	}
	return s.acceptUnverified(ctx, db, address, b.fingerprint, imp)
}

// stagedAcceptance opens the staged copy of openpgp.sqlite.
func (s *stage) stagedAcceptance(ctx context.Context) (*sql.DB, error) {
	if _, err := s.copyIn(acceptanceDB); err != nil {
		return nil, err
	}
	return openAcceptance(ctx, s.path(acceptanceDB))
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// acceptUnverified records (fpr, 'unverified') and (fpr, address) in the
// staged openpgp.sqlite, which has no decision about fpr. When the user
// accepted another key for the address, ours stays undecided.
func (s *stage) acceptUnverified(ctx context.Context, db *sql.DB, address, fpr string, imp *peerImports) ([]string, error) {
	other, err := otherAccepted(ctx, db, address, fpr)
	if err != nil {
		return nil, err
	}
	if other != "" {
		return []string{fmt.Sprintf("%s: %s has another accepted OpenPGP key (%s); the looked-up key %s is left undecided", s.profile, address, strings.ToUpper(other), fpr)}, nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	lower := strings.ToLower(fpr)
	if _, err := tx.ExecContext(ctx, `insert into acceptance_decision (fpr, decision) values (?, ?)`, lower, decisionUnverified); err != nil {
		return nil, fmt.Errorf("%s: %w", acceptanceDB, err)
	}
	res, err := tx.ExecContext(ctx, `insert or ignore into acceptance_email (fpr, email) values (?, ?)`, lower, address)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", acceptanceDB, err)
	}
	added, err := res.RowsAffected()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", acceptanceDB, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("%s: %w", acceptanceDB, err)
	}
	rec := imp.addPeerKey(address, fpr, "")
	rec.Email = added == 1 || rec.Accepted && rec.Email
	rec.Accepted, rec.Decision = true, decisionUnverified
	s.changed[acceptanceDB] = true
	s.did("%s: accepted OpenPGP key %s for %s as unverified", s.profile, fpr, address)
	return nil, nil
}

// otherAccepted returns another fingerprint accepted (not rejected) for
// address, or "".
func otherAccepted(ctx context.Context, db *sql.DB, address, fpr string) (string, error) {
	var other string
	err := db.QueryRowContext(ctx, `select e.fpr from acceptance_email e join acceptance_decision d on d.fpr = e.fpr
		where e.email = ? and e.fpr != ? and d.decision in ('verified', 'unverified') limit 1`,
		address, strings.ToLower(fpr)).Scan(&other)
	if err == sql.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", acceptanceDB, err)
	}
	return other, nil
}

// importPeerCert adds the peer's leaf to the staged NSS database with
// [peerTrust], unless it is trusted for mail already, and records in imp
// the trust it had. The check goes by the certificate itself, not our
// nickname: NSS keeps the nickname a certificate already has (Thunderbird
// files certificates from signed mail it received under its own names).
// Such a certificate that the profile's trust already accepts for
// encryption gets no trust of its own: that would outlive the user's trust
// in its CA. A certificate endymail trusted whose trust the user took back
// stays as the user left it.
func (s *stage) importPeerCert(ctx context.Context, tools nss, installDir, address string, leaf *x509.Certificate, imp *peerImports) ([]string, error) {
	if err := s.stageNSS(ctx, tools); err != nil {
		return nil, err
	}
	trust, present, err := tools.mailTrust(ctx, s.dir, address, leaf)
	if err != nil || present && mailTrusted(trust) {
		return nil, err
	}
	rec := imp.peerCert(leaf.Raw)
	if rec != nil && present {
		return []string{fmt.Sprintf("%s: the trust of %s's S/MIME certificate was changed to %q after endymail set it; left as it is", s.profile, address, trust)}, nil
	}
	if present {
		if ok, err := acceptedForMail(ctx, tools, s.dir, installDir, leaf.Raw); err != nil || ok {
			return nil, err
		}
	}
	nick := peerNick(address, leaf.Raw)
	if err := tools.addCert(ctx, s.dir, nick, peerTrust, leaf.Raw); err != nil {
		return nil, err
	}
	if rec == nil {
		imp.SMIME = append(imp.SMIME, peerCertRecord{Address: address, DER: leaf.Raw})
		rec = &imp.SMIME[len(imp.SMIME)-1]
	}
	rec.Nick, rec.PriorTrust = nick, ""
	if present {
		rec.PriorTrust = trust
		s.nssChanged("%s: trusted %s's S/MIME certificate for mail (%s, this certificate only)", s.profile, address, peerTrust)
	} else {
		s.nssChanged("%s: added %s's S/MIME certificate as %q, trusted for mail as this certificate only (%s)", s.profile, address, nick, peerTrust)
	}
	return nil, nil
}

// mailTrusted reports whether NSS trust flags trust a certificate for mail.
func mailTrusted(trust string) bool {
	f := strings.Split(trust, ",")
	return len(f) == 3 && strings.Contains(f[1], "C")
}

// mailTrust returns leaf's trust flags (as certutil -t takes them) and
// whether it is in the database at all, from `certutil -L --email address`:
// one block per certificate, each with its SHA-256 fingerprint and its
// trust flags.
func (t *nssTools) mailTrust(ctx context.Context, dir, address string, leaf *x509.Certificate) (trust string, present bool, err error) {
	out, err := t.run(ctx, nil, t.certutil, "-L", "-d", dbArg(dir), "--email", address)
	if err != nil {
		if strings.Contains(err.Error(), "Could not find certificates") {
			return "", false, nil
		}
		return "", false, err
	}
	sum := sha256.Sum256(leaf.Raw)
	want := colonHex(sum[:])
	for _, block := range strings.Split(string(out), "Certificate:\n") {
		if fpr, trust := certBlock(block); fpr == want {
			return trust, true, nil
		}
	}
	return "", false, nil
}

// certBlock picks the SHA-256 fingerprint and the trust flags out of one
// certificate certutil printed. The flags are printed as words, one
// section each for SSL, e-mail and object signing (NSS
// SECU_PrintTrustFlags); they come back as the letters certutil -t takes,
// "SSL,EMAIL,OBJSIGN".
func certBlock(block string) (fpr, trust string) {
	lines := strings.Split(block, "\n")
	var sections [3][]string
	cur := -1
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		switch line {
		case "Fingerprint (SHA-256):":
			for i+1 < len(lines) && strings.Count(lines[i+1], ":") > 0 && !strings.HasSuffix(strings.TrimSpace(lines[i+1]), ":") {
				fpr += strings.TrimSpace(lines[i+1])
				i++
			}
		case "SSL Flags:":
			cur = 0
		case "Email Flags:":
			cur = 1
		case "Object Signing Flags:":
			cur = 2
		default:
			if cur >= 0 && line != "" && !strings.HasSuffix(line, ":") {
				sections[cur] = append(sections[cur], line)
			} else if strings.HasSuffix(line, ":") || line == "" {
				cur = -1
			}
		}
	}
	return fpr, trustLetters(sections[0]) + "," + trustLetters(sections[1]) + "," + trustLetters(sections[2])
}

// trustLetters encodes the words NSS prints for one trust field the way
// NSS's own EncodeFlags writes them (CERT_EncodeTrustString).
func trustLetters(words []string) string {
	has := map[string]bool{}
	for _, w := range words {
		has[w] = true
	}
	terminal := has["Terminal Record"] || has["Valid Peer"]
	var out strings.Builder
	for _, f := range []struct {
		on     bool
		letter string
	}{
		{has["Valid CA"] && !has["Trusted CA"] && !has["Trusted Client CA"], "c"},
		{terminal && !has["Trusted"], "p"},
		{has["Trusted CA"], "C"},
		{has["Trusted Client CA"], "T"},
		{has["Trusted"], "P"},
		{has["User"], "u"},
		{has["Warn When Sending"], "w"},
	} {
		if f.on {
			out.WriteString(f.letter)
		}
	}
	return out.String()
}

func colonHex(b []byte) string {
	h := strings.ToUpper(hex.EncodeToString(b))
	var out strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			out.WriteByte(':')
		}
		out.WriteString(h[i : i+2])
	}
	return out.String()
}
