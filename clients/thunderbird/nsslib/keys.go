//go:build linux || darwin || windows

package nsslib

import (
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// keys returns the nicknames of the private keys, as certutil -K lists
// them: the key's own nickname, else its certificate's nickname or e-mail
// address, else "(orphan)".
func (s *session) keys() ([]string, error) {
	slot, err := s.keySlot()
	if err != nil {
		return nil, err
	}
	defer s.l.freeSlot(slot)
	list := s.l.listPrivKeys(slot)
	if list == nil {
		return nil, nil // certutil: "no keys found"
	}
	defer s.l.destroyPrivKeyList(list)
	var nicks []string
	listEach(list, func(key, _ ptr) {
		p := s.l.privKeyNickname(key)
		name := goString(p)
		if p != nil {
			s.l.portFree(p)
		}
		if name == "" {
			if cert := s.l.certFromPrivKey(key); cert != nil {
				if name = goString(field(cert, certNickname)); name == "" {
					name = goString(field(cert, certEmailAddr))
				}
				s.l.destroyCert(cert)
			}
		}
		if name == "" {
			name = orphanKeyNickname
		}
		nicks = append(nicks, name)
	})
	return nicks, nil
}

// PKCS#12 ciphers (ciferfam.h; the values are octal there).
var pkcs12Ciphers = []int{
	0x20000 | 0o01, 0x20000 | 0o02, // RC2-CBC 40, 128
	0x20000 | 0o11, 0x20000 | 0o12, // RC4 40, 128
	0x20000 | 0o21, 0x20000 | 0o22, // DES, 3DES
	0x20000 | 0o31, 0x20000 | 0o32, 0x20000 | 0o33, // AES-CBC 128, 192, 256
}

// importPKCS12 imports the keys and certificates of p12, as pk12util -i:
// decoder start, update, verify (the MAC and the password), validate
// (nicknames), import.
func (s *session) importPKCS12(p12 []byte, password string) error {
	for _, c := range pkcs12Ciphers {
		s.l.p12EnableCipher(c, prTrue)
	}
	slot, err := s.keySlot()
	if err != nil {
		return err
	}
	defer s.l.freeSlot(slot)
	pw := s.cItem(ucs2Password(password))
	defer s.freeItem(pw)
	data := s.cItem(p12)
	defer s.freeItem(data)
	dcx := s.l.p12DecoderStart(pw, slot, nil, nil, nil, nil, nil, nil)
	if dcx == nil {
		return s.fail("start the PKCS#12 decoder")
	}
	defer s.l.p12DecoderFinish(dcx)
	steps := []struct {
		what string
		f    func() secStatus
	}{
		{"decode the PKCS#12", func() secStatus {
			return s.l.p12DecoderUpdate(dcx, field(data, itemData), uint(len(p12)))
		}},
		{"verify the PKCS#12 (wrong password?)", func() secStatus { return s.l.p12DecoderVerify(dcx) }},
		{"validate the PKCS#12 contents", func() secStatus { return s.l.p12DecoderValidate(dcx, s.nicknameCallback()) }},
		{"import the PKCS#12 contents", func() secStatus { return s.l.p12DecoderImport(dcx) }},
	}
	for _, st := range steps {
		if st.f() != 0 {
			return s.fail(st.what)
		}
	}
	return nil
}

var (
	collisionOnce sync.Once
	collisionCB   uintptr
	collisionLib  *lib // the one session of this process
)

// nicknameCallback is the SEC_PKCS12NicknameCollisionCallback that NSS
// calls for a certificate with a key whose nickname is missing or taken;
// like pk12util's, it offers CERT_MakeCANickname of the certificate and
// gives up when that is the name already refused.
func (s *session) nicknameCallback() uintptr {
	collisionOnce.Do(func() {
		collisionLib = s.l
		collisionCB = purego.NewCallback(func(old, cancel, cert ptr) ptr {
			l := collisionLib
			if cancel == nil || cert == nil {
				return nil
			}
			nick := l.makeCANickname(cert)
			if nick == nil {
				return nil
			}
			n := goString(nick)
			if old != nil && string(itemBytes(old)) == n {
				l.portFree(nick)
				l.setError(secErrorIO)
				return nil
			}
			item := l.itemAlloc(nil, nil, 0)
			if item == nil {
				l.portFree(nick)
				return nil
			}
			*(*ptr)(unsafe.Add(item, itemData)) = nick
			*(*uint32)(unsafe.Add(item, itemLen)) = uint32(len(n))
			return item
		})
	})
	return collisionCB
}

// decrypt SDR-decrypts blob with the database's key (PK11SDR_Decrypt).
func (s *session) decrypt(blob []byte) ([]byte, error) {
	slot, err := s.keySlot()
	if err != nil {
		return nil, err
	}
	s.l.freeSlot(slot)
	in := s.cItem(blob)
	defer s.freeItem(in)
	out := s.l.itemAlloc(nil, nil, 0)
	if out == nil {
		return nil, s.fail("allocate")
	}
	defer s.freeItem(out)
	if s.l.sdrDecrypt(in, out, nil) != 0 {
		return nil, s.fail("decrypt")
	}
	return itemBytes(out), nil
}
