//go:build linux || darwin || windows

package nsslib

import "unsafe"

// NSS constants (certt.h).
const (
	usageEmailRecipient  = 5        // certUsageEmailRecipient
	usagesEmailRecipient = 1 << 5   // certificateUsageEmailRecipient
	usageSSLClient       = 0        // certUsageSSLClient, what certutil -O passes
	certListCerts        = 0        // CERTCertificateList.certs (SECItem array) @0
	certListLen          = 8        // CERTCertificateList.len (int) @8
	nullNickname         = "(null)" // what certutil -O prints for a certificate without one
)

// byEmail returns the DER of every certificate NSS files under address
// (none when it knows no such address).
func (s *session) byEmail(address string) ([][]byte, error) {
	return s.ders(s.l.findCertsByEmail(address, nil)), nil
}

// addModule adds a PKCS#11 module to the database's pkcs11.txt, as
// modutil -add does (SECMOD_AddNewModule, no default mechanisms).
func (s *session) addModule(name, library string) error {
	if s.l.addNewModule(name, library, 0, 0) != 0 {
		return s.fail("add the module " + library)
	}
	return nil
}

// verify verifies der now for an e-mail recipient with the database's
// trust (CERT_VerifyCertificateNow, the classic verifier vfychain uses by
// default). A certificate that does not verify is no error: its reason
// (the NSS error name) is returned.
func (s *session) verify(der []byte) (string, error) {
	item := s.cItem(der)
	defer s.freeItem(item)
	db := s.l.defaultCertDB()
	cert := s.l.newTempCert(db, item, nil, 0, prTrue)
	if cert == nil {
		return "", s.fail("decode the certificate")
	}
	defer s.l.destroyCert(cert)
	if s.l.verifyNow(db, cert, prTrue, usagesEmailRecipient, nil, nil) != 0 {
		e := s.fail("verify")
		if e.Name == "" {
			return e.Error(), nil
		}
		return e.Name, nil
	}
	return "", nil
}

// chain returns the nicknames of the chain NSS builds for the certificate
// under nick, root first, as certutil -O prints them.
func (s *session) chain(nick string) ([]string, error) {
	db := s.l.defaultCertDB()
	cert := s.l.findCertByNickOrMail(db, nick)
	if cert == nil {
		return nil, s.fail("find the certificate " + nick)
	}
	list := s.l.chainFromCert(cert, usageSSLClient, prTrue)
	s.l.destroyCert(cert)
	if list == nil {
		return nil, s.fail("build the chain of " + nick)
	}
	defer s.l.destroyCertsList(list)
	certs, n := field(list, certListCerts), *(*int32)(unsafe.Add(list, certListLen))
	var nicks []string
	for i := int(n) - 1; i >= 0; i-- {
		name := nullNickname
		if c := s.l.findCertByDER(db, unsafe.Add(certs, uintptr(i)*itemSize)); c != nil {
			if n := goString(field(c, certNickname)); n != "" {
				name = n
			}
			s.l.destroyCert(c)
		}
		nicks = append(nicks, name)
	}
	return nicks, nil
}
