package thunderbird

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/endymail/endymail/clients"
)

// caTrust is the NSS trust for the personal CA: trusted to issue mail
// certificates only (SSL, S/MIME, code signing).
const caTrust = ",C,"

// applySMIME puts the personal CA (trusted for mail) and the key and
// certificate into the staged NSS database, unless they are already there.
func (s *stage) applySMIME(ctx context.Context, tools nssDB, m *clients.SMIME, address string, as *addrState) (*smimeResult, error) {
	dbkey, err := DBKey(m.Cert)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, clients.ErrCorrupt)
	}
	if err := s.stageNSS(ctx, tools); err != nil {
		return nil, err
	}
	nick, ca := certNick(address), caNick(m.CA.Raw)
	trust, err := tools.listing(ctx, s.dir)
	if err != nil {
		return nil, err
	}
	caCerts, err := tools.certsByNick(ctx, s.dir, ca)
	if err != nil {
		return nil, err
	}
	switch {
	case !containsDER(caCerts, m.CA.Raw):
		if err := tools.addCert(ctx, s.dir, ca, caTrust, m.CA.Raw); err != nil {
			return nil, err
		}
		s.nssChanged("%s: added the personal CA %q trusted for mail (%s)", s.profile, m.CA.Subject.CommonName, caTrust)
	case trust[ca] != caTrust:
		if err := tools.setTrust(ctx, s.dir, ca, caTrust); err != nil {
			return nil, err
		}
		s.nssChanged("%s: set the personal CA's trust to %s", s.profile, caTrust)
	}
	if err := s.importLeaf(ctx, tools, m, nick); err != nil {
		return nil, err
	}
	as.CertNick, as.CANick = nick, ca
	return &smimeResult{nick: nick, dbkey: dbkey}, nil
}

// importLeaf imports the PKCS#12 under nick: the certificate is added first
// under our nickname so that pk12util files the key under it too.
func (s *stage) importLeaf(ctx context.Context, tools nssDB, m *clients.SMIME, nick string) error {
	certs, err := tools.certsByNick(ctx, s.dir, nick)
	if err != nil {
		return err
	}
	keys, err := tools.keyNicks(ctx, s.dir)
	if err != nil {
		return err
	}
	if containsDER(certs, m.Cert.Raw) && keys[nick] {
		return nil
	}
	if !containsDER(certs, m.Cert.Raw) {
		if err := tools.addCert(ctx, s.dir, nick, ",,", m.Cert.Raw); err != nil {
			return err
		}
	}
	if err := tools.importPKCS12(ctx, s.dir, m.PKCS12, m.Password); err != nil {
		return fmt.Errorf("import the S/MIME key: %w", err)
	}
	if keys, err = tools.keyNicks(ctx, s.dir); err != nil {
		return err
	}
	if !keys[nick] {
		return fmt.Errorf("the PKCS#12 holds no key for the certificate %q: %w", nick, clients.ErrCorrupt)
	}
	s.nssChanged("%s: imported the S/MIME key and certificate as %q", s.profile, nick)
	return nil
}

func (s *stage) nssChanged(format string, a ...any) {
	s.changed[certDB], s.changed[keyDB] = true, true
	s.did(format, a...)
}

func containsDER(list [][]byte, der []byte) bool {
	return slices.ContainsFunc(list, func(d []byte) bool { return bytes.Equal(d, der) })
}

// applyOpenPGP adds the key to the staged keyrings, protected with
// Thunderbird's automatic passphrase, and accepts it as personal. It
// reports false, changing nothing, when the profile has never started.
func (s *stage) applyOpenPGP(ctx context.Context, tools nssDB, m *clients.OpenPGP, as *addrState) (bool, error) {
	enc, err := os.ReadFile(s.orig(passphraseFile))
	if err != nil || !fileExists(s.orig(keyDB)) || !fileExists(s.orig(acceptanceDB)) {
		return false, nil
	}
	if err := s.stageNSS(ctx, tools); err != nil {
		return false, err
	}
	pass, err := tools.openPGPPassphrase(ctx, s.dir, enc)
	if err != nil {
		return false, err
	}
	rec := as.key(m.Fingerprint)
	if rec == nil {
		sec, err := s.readKeyring(secringFile)
		if err != nil {
			return false, err
		}
		_, had := findKey(sec, m.Fingerprint)
		rec = &keyRecord{Fingerprint: m.Fingerprint, Preexisting: had}
		if rec.PriorDecision, err = s.acceptPersonal(ctx, m.Fingerprint); err != nil {
			return false, err
		}
		defer func() { as.OpenPGP = append(as.OpenPGP, *rec) }()
	} else if _, err := s.acceptPersonal(ctx, m.Fingerprint); err != nil {
		return false, err
	}
	if err := s.stageKeyrings(m, pass); err != nil {
		return false, err
	}
	return true, nil
}

// stageKeyrings puts the public key into pubring.gpg and the protected
// secret key into secring.gpg, replacing a key with the same fingerprint.
func (s *stage) stageKeyrings(m *clients.OpenPGP, pass []byte) error {
	pubBlocks, err := splitKeyring("OpenPGP public key", m.Public)
	if err != nil {
		return err
	}
	if len(pubBlocks) != 1 || pubBlocks[0].fingerprint != m.Fingerprint {
		return fmt.Errorf("OpenPGP public key is not the one key %s: %w", m.Fingerprint, clients.ErrCorrupt)
	}
	pub, err := s.readKeyring(pubringFile)
	if err != nil {
		return err
	}
	if b, ok := findKey(pub, m.Fingerprint); !ok || !bytes.Equal(b.raw, m.Public) {
		if err := s.write(pubringFile, withKey(pub, pubBlocks[0])); err != nil {
			return err
		}
		s.did("%s: added OpenPGP public key %s to %s", s.profile, m.Fingerprint, pubringFile)
	}
	sec, err := s.readKeyring(secringFile)
	if err != nil {
		return err
	}
	if b, ok := findKey(sec, m.Fingerprint); ok && unlocks(b.raw, pass) {
		return nil
	}
	protected, err := protectedSecret(m.Secret, m.Fingerprint, pass)
	if err != nil {
		return err
	}
	if err := s.write(secringFile, withKey(sec, keyBlock{raw: protected, fingerprint: m.Fingerprint})); err != nil {
		return err
	}
	s.did("%s: added OpenPGP secret key %s to %s under Thunderbird's passphrase", s.profile, m.Fingerprint, secringFile)
	return nil
}

// readKeyring splits the keyring as staged so far: the staged copy when
// there is one, else the profile's (none when absent).
func (s *stage) readKeyring(name string) ([]keyBlock, error) {
	src := s.orig(name)
	if s.changed[name] {
		src = s.path(name)
	}
	data, err := os.ReadFile(src)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return splitKeyring(s.orig(name), data)
}

// acceptPersonal writes acceptance_decision(fpr, 'personal') into a staged
// openpgp.sqlite and returns the decision it found there.
func (s *stage) acceptPersonal(ctx context.Context, fpr string) (string, error) {
	if _, err := s.copyIn(acceptanceDB); err != nil {
		return "", err
	}
	db, err := openAcceptance(ctx, s.path(acceptanceDB))
	if err != nil {
		return "", err
	}
	defer db.Close()
	d, err := decision(ctx, db, fpr)
	if err != nil || d == decisionPersonal {
		return d, err
	}
	if err := setDecision(ctx, db, fpr, decisionPersonal); err != nil {
		return "", err
	}
	s.changed[acceptanceDB] = true
	s.did("%s: accepted OpenPGP key %s as personal", s.profile, fpr)
	return d, nil
}
