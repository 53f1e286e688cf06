//go:build linux || darwin || windows

package nsslib

import (
	"unicode/utf16"
	"unsafe"
)

// session is one NSS_Initialize … NSS_Shutdown on one database.
type session struct {
	l  *lib
	op Kind // the operation running, for errors
}

// NSS constants (nss.h, secmodt.h, secerr.h).
const (
	initReadOnly      = 0x1 // NSS_INIT_READONLY
	certListUnique    = 0   // PK11CertListUnique
	secErrorIO        = -8192
	secErrorBadDB     = -8192 + 18
	prTrue            = 1
	invalidObjHandle  = 0 // CK_INVALID_HANDLE
	secmodName        = "secmod.db"
	orphanKeyNickname = "(orphan)"
)

// run opens NSS from req.Lib on req.DB, runs the operations in order and
// stops at the first failure. NSS_Shutdown failing (an object still
// referenced) is an error too.
func run(req *Request) (results []Result, err error) {
	l, err := load(req.Lib)
	if err != nil {
		return nil, &Error{Op: opInit, What: err.Error()}
	}
	s := &session{l: l, op: opInit}
	var flags uint32 = initReadOnly
	for _, op := range req.Ops {
		if !readOnly[op.Kind] {
			flags = 0
		}
	}
	if l.initialize("sql:"+req.DB, "", "", secmodName, flags) != 0 {
		return nil, s.fail("open the database " + req.DB)
	}
	defer func() {
		s.op = "shutdown"
		if l.shutdown() != 0 && err == nil {
			err = s.fail("close the database (an NSS object was not freed)")
		}
	}()
	for _, op := range req.Ops {
		s.op = op.Kind
		r, err := s.do(op)
		if err != nil {
			return results, err
		}
		results = append(results, r)
	}
	return results, nil
}

func (s *session) do(op Op) (Result, error) {
	switch op.Kind {
	case Create:
		return Result{}, s.create()
	case List:
		t, err := s.list()
		return Result{Trust: t}, err
	case Certs:
		c, err := s.certs(op.Nick)
		return Result{Certs: c}, err
	case AddCert:
		return Result{}, s.addCert(op.Nick, op.Trust, op.Data)
	case SetTrust:
		return Result{}, s.setTrust(op.Nick, op.Trust)
	case Keys:
		k, err := s.keys()
		return Result{Keys: k}, err
	case ImportPKCS12:
		return Result{}, s.importPKCS12(op.Data, op.Password)
	case Delete:
		return Result{}, s.delete(op.Nick, op.WithKey)
	case Find:
		found, flags, err := s.find(op.Data)
		return Result{Found: found, Flags: flags}, err
	case Decrypt:
		p, err := s.decrypt(op.Data)
		return Result{Plain: p}, err
	case ByEmail:
		c, err := s.byEmail(op.Nick)
		return Result{Certs: c}, err
	case AddModule:
		return Result{}, s.addModule(op.Nick, op.Library)
	case Verify:
		reason, err := s.verify(op.Data)
		return Result{Valid: err == nil && reason == "", Reason: reason}, err
	case Chain:
		n, err := s.chain(op.Nick)
		return Result{Nicks: n}, err
	}
	return Result{}, &Error{Op: op.Kind, What: "unknown operation"}
}

// fail builds the error for what from PR_GetError.
func (s *session) fail(what string) *Error {
	code := s.l.getError()
	return &Error{Op: s.op, What: what, Code: code, Name: goString(s.l.errorToName(code))}
}

// cItem copies b into a new C SECItem; free it with freeItem.
func (s *session) cItem(b []byte) ptr {
	item := s.l.itemAlloc(nil, nil, uint32(len(b)))
	if item != nil && len(b) > 0 {
		copy(unsafe.Slice((*byte)(field(item, itemData)), len(b)), b)
	}
	return item
}

// freeItem zeroes and frees a SECItem made by cItem or by NSS.
func (s *session) freeItem(item ptr) {
	if item != nil {
		s.l.itemZfree(item, prTrue)
	}
}

// slot returns the internal key slot (the database); free with PK11_FreeSlot.
func (s *session) slot() (ptr, error) {
	slot := s.l.internalKeySlot()
	if slot == nil {
		return nil, s.fail("find the internal key slot")
	}
	return slot, nil
}

// keySlot is slot, logged in for private-key operations. Thunderbird's
// database has no password; one with a primary password is refused.
func (s *session) keySlot() (ptr, error) {
	slot, err := s.slot()
	if err != nil {
		return nil, err
	}
	if s.l.authenticate(slot, prTrue, nil) != 0 {
		s.l.freeSlot(slot)
		return nil, s.fail("log in to the key database (is a primary password set?)")
	}
	return slot, nil
}

// create gives a new database the empty password, as Thunderbird and
// certutil -N --empty-password do.
func (s *session) create() error {
	slot, err := s.slot()
	if err != nil {
		return err
	}
	defer s.l.freeSlot(slot)
	if s.l.needUserInit(slot) != 0 && s.l.initPin(slot, nil, "") != 0 {
		return s.fail("set the empty password")
	}
	return nil
}

// ucs2Password is the PKCS#12 password as pk12util hands it to NSS:
// UCS-2 big-endian with a terminating zero character.
func ucs2Password(pw string) []byte {
	u := utf16.Encode([]rune(pw))
	out := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		out = append(out, byte(c>>8), byte(c))
	}
	return append(out, 0, 0)
}
