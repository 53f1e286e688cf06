//go:build linux || darwin || windows

package nsslib

import (
	"fmt"
	"os"
	"path/filepath"
	"unsafe"
)

// ptr is a C pointer. C memory is never handed to the Go garbage
// collector, and Go memory handed to NSS lives only for one call.
type ptr = unsafe.Pointer

// secStatus is NSS's SECStatus (SECSuccess 0, SECFailure -1).
type secStatus = int32

// certTrust is CERTCertTrust (certt.h): three unsigned ints.
type certTrust struct {
	ssl, email, objectSigning uint32
}

// lib is the loaded NSS: one Go function per C function used. The
// signatures follow the NSS 3.x public headers named beside each group.
type lib struct {
	// nss.h
	initialize func(dir, certPrefix, keyPrefix, secmod string, flags uint32) secStatus `nss:"NSS_Initialize"`
	shutdown   func() secStatus                                                        `nss:"NSS_Shutdown"`
	// prerror.h (NSPR, folded into nss3 on Windows), secport.h
	getError    func() int32         `nss:"PR_GetError"`
	errorToName func(code int32) ptr `nss:"PR_ErrorToName"`
	portFree    func(p ptr)          `nss:"PORT_Free"`
	setError    func(code int32)     `nss:"PORT_SetError"`
	// secitem.h
	itemAlloc func(arena, item ptr, n uint32) ptr `nss:"SECITEM_AllocItem"`
	itemZfree func(item ptr, freeit int32)        `nss:"SECITEM_ZfreeItem"`
	// pk11pub.h
	internalKeySlot    func() ptr                                                         `nss:"PK11_GetInternalKeySlot"`
	freeSlot           func(slot ptr)                                                     `nss:"PK11_FreeSlot"`
	needUserInit       func(slot ptr) int32                                               `nss:"PK11_NeedUserInit"`
	initPin            func(slot, ssopw ptr, userpw string) secStatus                     `nss:"PK11_InitPin"`
	authenticate       func(slot ptr, loadCerts int32, wincx ptr) secStatus               `nss:"PK11_Authenticate"`
	listCerts          func(typ int32, wincx ptr) ptr                                     `nss:"PK11_ListCerts"`
	findCertsFromNick  func(nick string, wincx ptr) ptr                                   `nss:"PK11_FindCertsFromNickname"`
	findCertFromDER    func(slot, der, wincx ptr) ptr                                     `nss:"PK11_FindCertFromDERCertItem"`
	importCert         func(slot, cert ptr, key uint, nick string, trust int32) secStatus `nss:"PK11_ImportCert"`
	listPrivKeys       func(slot ptr) ptr                                                 `nss:"PK11_ListPrivateKeysInSlot"`
	privKeyNickname    func(key ptr) ptr                                                  `nss:"PK11_GetPrivateKeyNickname"`
	certFromPrivKey    func(key ptr) ptr                                                  `nss:"PK11_GetCertFromPrivateKey"`
	findKeyByAnyCert   func(cert, wincx ptr) ptr                                          `nss:"PK11_FindKeyByAnyCert"`
	deleteCertAndKey   func(cert, wincx ptr) secStatus                                    `nss:"PK11_DeleteTokenCertAndKey"`
	sdrDecrypt         func(in, out, cx ptr) secStatus                                    `nss:"PK11SDR_Decrypt"`
	destroyPrivKey     func(key ptr)                                                      `nss:"SECKEY_DestroyPrivateKey"`
	destroyPrivKeyList func(list ptr)                                                     `nss:"SECKEY_DestroyPrivateKeyList"`
	// cert.h
	defaultCertDB        func() ptr                                                                 `nss:"CERT_GetDefaultCertDB"`
	newTempCert          func(db, der ptr, nick ptr, isPerm, copyDER int32) ptr                     `nss:"CERT_NewTempCertificate"`
	destroyCert          func(cert ptr)                                                             `nss:"CERT_DestroyCertificate"`
	destroyCertList      func(list ptr)                                                             `nss:"CERT_DestroyCertList"`
	getCertTrust         func(cert ptr, trust *certTrust) secStatus                                 `nss:"CERT_GetCertTrust"`
	decodeTrustString    func(trust *certTrust, s string) secStatus                                 `nss:"CERT_DecodeTrustString"`
	changeCertTrust      func(db, cert ptr, trust *certTrust) secStatus                             `nss:"CERT_ChangeCertTrust"`
	findCertByNickOrMail func(db ptr, name string) ptr                                              `nss:"CERT_FindCertByNicknameOrEmailAddr"`
	deletePermCert       func(cert ptr) secStatus                                                   `nss:"SEC_DeletePermCertificate"`
	makeCANickname       func(cert ptr) ptr                                                         `nss:"CERT_MakeCANickname"`
	findCertsByEmail     func(email string, wincx ptr) ptr                                          `nss:"PK11_FindCertsFromEmailAddress"`
	findCertByDER        func(db, der ptr) ptr                                                      `nss:"CERT_FindCertByDERCert"`
	verifyNow            func(db, cert ptr, checkSig int32, usages int64, wincx, out ptr) secStatus `nss:"CERT_VerifyCertificateNow"`
	chainFromCert        func(cert ptr, usage, includeRoot int32) ptr                               `nss:"CERT_CertChainFromCert"`
	destroyCertsList     func(list ptr)                                                             `nss:"CERT_DestroyCertificateList"`
	// secmod.h
	addNewModule func(name, library string, mechFlags, cipherFlags uint) secStatus `nss:"SECMOD_AddNewModule"`
	// pkcs12.h, p12plcy.h (libsmime3 on Linux, folded into nss3 elsewhere)
	p12EnableCipher    func(which int, on int32) secStatus                               `nss:"SEC_PKCS12EnableCipher"`
	p12DecoderStart    func(pw, slot, wincx, dOpen, dClose, dRead, dWrite, dArg ptr) ptr `nss:"SEC_PKCS12DecoderStart"`
	p12DecoderUpdate   func(dcx, data ptr, n uint) secStatus                             `nss:"SEC_PKCS12DecoderUpdate"`
	p12DecoderVerify   func(dcx ptr) secStatus                                           `nss:"SEC_PKCS12DecoderVerify"`
	p12DecoderValidate func(dcx ptr, cb uintptr) secStatus                               `nss:"SEC_PKCS12DecoderValidateBags"`
	p12DecoderImport   func(dcx ptr) secStatus                                           `nss:"SEC_PKCS12DecoderImportBags"`
	p12DecoderFinish   func(dcx ptr)                                                     `nss:"SEC_PKCS12DecoderFinish"`
}

// load opens the NSS libraries in dir and binds every function of lib.
func load(dir string) (*lib, error) {
	if _, err := os.Stat(filepath.Join(dir, LibraryFile)); err != nil {
		return nil, fmt.Errorf("no NSS library (%s) in %s: %w", LibraryFile, dir, err)
	}
	var handles []uintptr
	for _, name := range libraryFiles {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		h, err := openLibrary(path)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", path, err)
		}
		handles = append(handles, h)
	}
	l := &lib{}
	if err := bind(l, handles); err != nil {
		return nil, fmt.Errorf("NSS in %s: %w", dir, err)
	}
	return l, nil
}
