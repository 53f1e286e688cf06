//go:build linux || darwin || windows

package nsslib

import "unsafe"

// CERTCertTrust flags (certdb.h).
const (
	trustTerminalRecord = 1 << 0
	trustTrusted        = 1 << 1
	trustSendWarn       = 1 << 2
	trustValidCA        = 1 << 3
	trustTrustedCA      = 1 << 4
	trustUser           = 1 << 6
	trustTrustedClient  = 1 << 7
	trustInvisibleCA    = 1 << 8
	trustGovtApproved   = 1 << 9
)

// trustFlags formats one trust field as certutil prints it (printflags in
// NSS's cmd/lib/secutil.c).
func trustFlags(f uint32) string {
	var s string
	if f&trustValidCA != 0 && f&(trustTrustedCA|trustTrustedClient) == 0 {
		s += "c"
	}
	if f&trustTerminalRecord != 0 && f&trustTrusted == 0 {
		s += "p"
	}
	for _, c := range []struct {
		bit uint32
		s   string
	}{{trustTrustedCA, "C"}, {trustTrustedClient, "T"}, {trustTrusted, "P"}, {trustUser, "u"},
		{trustSendWarn, "w"}, {trustInvisibleCA, "I"}, {trustGovtApproved, "G"}} {
		if f&c.bit != 0 {
			s += c.s
		}
	}
	return s
}

// trustString is cert's trust as "ssl,email,objectSigning" (",," when it
// has none), as in certutil -L.
func (s *session) trustString(cert ptr) string {
	var t certTrust
	if s.l.getCertTrust(cert, &t) != 0 {
		return ",,"
	}
	return trustFlags(t.ssl) + "," + trustFlags(t.email) + "," + trustFlags(t.objectSigning)
}

// displayName is the name certutil lists a certificate under: the list
// node's name, else the nickname, else the e-mail address.
func displayName(cert, appData ptr) string {
	for _, p := range []ptr{appData, field(cert, certNickname), field(cert, certEmailAddr)} {
		if n := goString(p); n != "" {
			return n
		}
	}
	return "(NULL)"
}

func (s *session) list() (map[string]string, error) {
	list := s.l.listCerts(certListUnique, nil)
	if list == nil {
		return nil, s.fail("list the certificates")
	}
	defer s.l.destroyCertList(list)
	out := map[string]string{}
	listEach(list, func(cert, appData ptr) {
		out[displayName(cert, appData)] = s.trustString(cert)
	})
	return out, nil
}

// certs returns the DER of every certificate under nick (none when the
// nickname is unknown).
func (s *session) certs(nick string) ([][]byte, error) {
	return s.ders(s.l.findCertsFromNick(nick, nil)), nil
}

// ders returns the DER of every certificate in list, and frees it; a nil
// list (NSS found none) is no certificate.
func (s *session) ders(list ptr) [][]byte {
	if list == nil {
		return nil
	}
	defer s.l.destroyCertList(list)
	var ders [][]byte
	listEach(list, func(cert, _ ptr) {
		ders = append(ders, itemBytes(unsafe.Add(cert, certDER)))
	})
	return ders
}

// addCert stores der under nick with trust, as certutil -A does: a
// temporary certificate, imported into the internal slot, then trusted.
func (s *session) addCert(nick, trust string, der []byte) error {
	var t certTrust
	if s.l.decodeTrustString(&t, trust) != 0 {
		return s.fail("parse the trust " + trust)
	}
	item := s.cItem(der)
	defer s.freeItem(item)
	db := s.l.defaultCertDB()
	cert := s.l.newTempCert(db, item, nil, 0, prTrue)
	if cert == nil {
		return s.fail("decode the certificate for " + nick)
	}
	defer s.l.destroyCert(cert)
	slot, err := s.slot()
	if err != nil {
		return err
	}
	defer s.l.freeSlot(slot)
	if s.l.importCert(slot, cert, invalidObjHandle, nick, 0) != 0 {
		return s.fail("import the certificate " + nick)
	}
	if s.l.changeCertTrust(db, cert, &t) != 0 {
		return s.fail("set the trust of " + nick)
	}
	return nil
}

// setTrust changes the trust of the certificate under nick (certutil -M).
func (s *session) setTrust(nick, trust string) error {
	var t certTrust
	if s.l.decodeTrustString(&t, trust) != 0 {
		return s.fail("parse the trust " + trust)
	}
	db := s.l.defaultCertDB()
	cert := s.l.findCertByNickOrMail(db, nick)
	if cert == nil {
		return s.fail("find the certificate " + nick)
	}
	defer s.l.destroyCert(cert)
	if s.l.changeCertTrust(db, cert, &t) != 0 {
		return s.fail("set the trust of " + nick)
	}
	return nil
}

// find reports whether the certificate der is stored in the database, and
// its trust.
func (s *session) find(der []byte) (bool, string, error) {
	slot, err := s.slot()
	if err != nil {
		return false, "", err
	}
	defer s.l.freeSlot(slot)
	item := s.cItem(der)
	defer s.freeItem(item)
	cert := s.l.findCertFromDER(slot, item, nil)
	if cert == nil {
		return false, "", nil
	}
	defer s.l.destroyCert(cert)
	return true, s.trustString(cert), nil
}

// delete removes every certificate under nick, and with withKey the
// private key of each. Rounds repeat until the nickname is gone, as NSS
// may surface another certificate under it once one is deleted.
func (s *session) delete(nick string, withKey bool) error {
	for range 16 {
		list := s.l.findCertsFromNick(nick, nil)
		if list == nil {
			return nil
		}
		var err error
		listEach(list, func(cert, _ ptr) {
			if err == nil {
				err = s.deleteOne(nick, cert, withKey)
			}
		})
		s.l.destroyCertList(list)
		if err != nil {
			return err
		}
	}
	return &Error{Op: s.op, What: nick + " still present after 16 deletions"}
}

func (s *session) deleteOne(nick string, cert ptr, withKey bool) error {
	if withKey {
		if key := s.l.findKeyByAnyCert(cert, nil); key != nil {
			s.l.destroyPrivKey(key)
			if s.l.deleteCertAndKey(cert, nil) != 0 {
				return s.fail("delete the certificate and key " + nick)
			}
			return nil
		}
	}
	if s.l.deletePermCert(cert) != 0 {
		return s.fail("delete the certificate " + nick)
	}
	return nil
}
