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

// importProfile stages every peer's keys for one profile and commits them.
func (c *Configurator) importProfile(ctx context.Context, tools nss, dir string, peers []peerKeys, rep *clients.Report) error {
	st, err := loadState(dir)
	if err != nil {
		return err
	}
	s, err := newStage(dir)
	if err != nil {
		return err
	}
	defer s.cleanup()
	pgpOK := fileExists(s.orig(acceptanceDB))
	nssOK := tools != nil && fileExists(s.orig(certDB))
	for _, p := range peers {
		if p.pgp != nil && !pgpOK {
			rep.Deferred = append(rep.Deferred, fmt.Sprintf("%s: OpenPGP key of %s waits until Thunderbird has started once with this profile (no %s yet)", dir, p.address, acceptanceDB))
		} else if p.pgp != nil {
			w, err := s.importPeerOpenPGP(ctx, p.address, *p.pgp)
			if err != nil {
				return err
			}
			rep.Warnings = append(rep.Warnings, w...)
		}
		if p.leaf != nil && !nssOK {
			rep.Deferred = append(rep.Deferred, fmt.Sprintf("%s: S/MIME certificate of %s waits until Thunderbird has started once with this profile (no %s yet)", dir, p.address, certDB))
		} else if p.leaf != nil {
			if err := s.importPeerCert(ctx, tools, c.opts.InstallDir, p.address, p.leaf); err != nil {
				return err
			}
		}
	}
	if len(s.changed) == 0 {
		return nil
	}
	if err := s.commit(c.opts.Now(), st, nil, manifest{Address: "(correspondents)", Actions: s.actions, Prefs: st.Prefs}); err != nil {
		return err
	}
	rep.Actions = append(rep.Actions, s.actions...)
	return nil
}

// importPeerOpenPGP puts the key into the staged pubring.gpg and accepts it
// as unverified for address, unless a decision about it exists. It returns
// warnings for keys it could not make usable.
func (s *stage) importPeerOpenPGP(ctx context.Context, address string, b keyBlock) ([]string, error) {
	sec, err := s.readKeyring(secringFile)
	if err != nil {
		return nil, err
	}
	if _, own := findKey(sec, b.fingerprint); own {
		return []string{fmt.Sprintf("%s: OpenPGP key %s of %s is one of this profile's own keys; left alone", s.profile, b.fingerprint, address)}, nil
	}
	pub, err := s.readKeyring(pubringFile)
	if err != nil {
		return nil, err
	}
	if old, ok := findKey(pub, b.fingerprint); !ok || !bytes.Equal(old.raw, b.raw) {
		if err := s.write(pubringFile, withKey(pub, b)); err != nil {
			return nil, err
		}
		s.did("%s: added OpenPGP public key %s of %s to %s", s.profile, b.fingerprint, address, pubringFile)
	}
	return s.acceptUnverified(ctx, address, b.fingerprint)
}

// acceptUnverified records (fpr, 'unverified') and (fpr, address) in the
// staged openpgp.sqlite when Thunderbird has no decision about fpr. When
// the user accepted another key for the address, ours stays undecided.
func (s *stage) acceptUnverified(ctx context.Context, address, fpr string) ([]string, error) {
	if _, err := s.copyIn(acceptanceDB); err != nil {
		return nil, err
	}
	db, err := openAcceptance(ctx, s.path(acceptanceDB))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	d, err := decision(ctx, db, fpr)
	if err != nil || d != "" {
		return nil, err
	}
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
	if _, err := tx.ExecContext(ctx, `insert or ignore into acceptance_email (fpr, email) values (?, ?)`, lower, address); err != nil {
		return nil, fmt.Errorf("%s: %w", acceptanceDB, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("%s: %w", acceptanceDB, err)
	}
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
// [peerTrust], unless it is there with that trust already. The check goes by
// the certificate itself, not our nickname: NSS keeps the nickname a
// certificate already has (Thunderbird files certificates from signed mail
// it received under its own names). Such a certificate that the profile's
// trust already accepts for encryption gets no trust of its own: that
// would outlive the user's trust in its CA.
func (s *stage) importPeerCert(ctx context.Context, tools nss, installDir, address string, leaf *x509.Certificate) error {
	if err := s.stageNSS(ctx, tools); err != nil {
		return err
	}
	present, trusted, err := tools.mailTrust(ctx, s.dir, address, leaf)
	if err != nil || trusted {
		return err
	}
	if present {
		if ok, err := acceptedForMail(ctx, tools, s.dir, installDir, leaf.Raw); err != nil || ok {
			return err
		}
	}
	nick := peerNick(address, leaf.Raw)
	if err := tools.addCert(ctx, s.dir, nick, peerTrust, leaf.Raw); err != nil {
		return err
	}
	if present {
		s.nssChanged("%s: trusted %s's S/MIME certificate for mail (%s, this certificate only)", s.profile, address, peerTrust)
	} else {
		s.nssChanged("%s: added %s's S/MIME certificate as %q, trusted for mail as this certificate only (%s)", s.profile, address, nick, peerTrust)
	}
	return nil
}

// mailTrust reports whether leaf is in the database, and whether it is
// trusted for mail, from `certutil -L --email address`: one block per
// certificate, each with its SHA-256 fingerprint and its trust flags.
func (t *nssTools) mailTrust(ctx context.Context, dir, address string, leaf *x509.Certificate) (present, trusted bool, err error) {
	out, err := t.run(ctx, nil, t.certutil, "-L", "-d", dbArg(dir), "--email", address)
	if err != nil {
		if strings.Contains(err.Error(), "Could not find certificates") {
			return false, false, nil
		}
		return false, false, err
	}
	sum := sha256.Sum256(leaf.Raw)
	want := colonHex(sum[:])
	for _, block := range strings.Split(string(out), "Certificate:\n") {
		fpr, flags := certBlock(block)
		if fpr == want {
			return true, strings.Contains(flags, "Trusted CA"), nil
		}
	}
	return false, false, nil
}

// certBlock picks the SHA-256 fingerprint and the e-mail trust flags out of
// one certificate certutil printed.
func certBlock(block string) (fpr, emailFlags string) {
	lines := strings.Split(block, "\n")
	for i := 0; i < len(lines); i++ {
		switch strings.TrimSpace(lines[i]) {
		case "Fingerprint (SHA-256):":
			for i+1 < len(lines) && strings.Count(lines[i+1], ":") > 0 && !strings.HasSuffix(strings.TrimSpace(lines[i+1]), ":") {
				fpr += strings.TrimSpace(lines[i+1])
				i++
			}
		case "Email Flags:":
			for i+1 < len(lines) && !strings.HasSuffix(strings.TrimSpace(lines[i+1]), "Flags:") && strings.TrimSpace(lines[i+1]) != "" {
				emailFlags += strings.TrimSpace(lines[i+1]) + ";"
				i++
			}
		}
	}
	return fpr, emailFlags
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
