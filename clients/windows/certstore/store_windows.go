//go:build windows

package certstore

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Primitives golang.org/x/sys/windows does not wrap.
var (
	crypt32                               = windows.NewLazySystemDLL("crypt32.dll")
	procCertGetCertificateContextProperty = crypt32.NewProc("CertGetCertificateContextProperty")
	procCertSetCertificateContextProperty = crypt32.NewProc("CertSetCertificateContextProperty")

	ncrypt                        = windows.NewLazySystemDLL("ncrypt.dll")
	procNCryptOpenStorageProvider = ncrypt.NewProc("NCryptOpenStorageProvider")
	procNCryptOpenKey             = ncrypt.NewProc("NCryptOpenKey")
	procNCryptDeleteKey           = ncrypt.NewProc("NCryptDeleteKey")
	procNCryptFreeObject          = ncrypt.NewProc("NCryptFreeObject")
)

const (
	encoding              = windows.X509_ASN_ENCODING | windows.PKCS_7_ASN_ENCODING
	certKeyProvInfoPropID = 2 // CERT_KEY_PROV_INFO_PROP_ID
	certEnhKeyUsagePropID = 9 // CERT_ENHKEY_USAGE_PROP_ID
	cryptMachineKeyset    = 0x20
	nteBadKeyset          = 0x80090016 // NTE_BAD_KEYSET: the container is gone
	nteNotFound           = 0x80090011 // NTE_NOT_FOUND (CNG)
)

// cryptKeyProvInfo is CRYPT_KEY_PROV_INFO (wincrypt.h).
type cryptKeyProvInfo struct {
	ContainerName  *uint16
	ProvName       *uint16
	ProvType       uint32
	Flags          uint32
	ProvParamCount uint32
	ProvParam      uintptr
	KeySpec        uint32
}

var oidEmailProtection = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 4}

func openStore(s Store) (windows.Handle, error) {
	name, err := windows.UTF16PtrFromString(string(s))
	if err != nil {
		return 0, err
	}
	h, err := windows.CertOpenStore(windows.CERT_STORE_PROV_SYSTEM, 0, 0,
		windows.CERT_SYSTEM_STORE_CURRENT_USER, uintptr(unsafe.Pointer(name)))
	if err != nil {
		return 0, fmt.Errorf("open CurrentUser\\%s store: %w", s, err)
	}
	return h, nil
}

func encoded(ctx *windows.CertContext) []byte {
	return unsafe.Slice(ctx.EncodedCert, ctx.Length)
}

func property(ctx *windows.CertContext, id uint32) ([]byte, error) {
	var size uint32
	r, _, err := procCertGetCertificateContextProperty.Call(uintptr(unsafe.Pointer(ctx)), uintptr(id), 0, uintptr(unsafe.Pointer(&size)))
	if r == 0 {
		return nil, err
	}
	buf := make([]byte, size)
	r, _, err = procCertGetCertificateContextProperty.Call(uintptr(unsafe.Pointer(ctx)), uintptr(id), uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)))
	if r == 0 {
		return nil, err
	}
	return buf[:size], nil
}

func importPFX(pfx []byte, password string) (Thumbprint, error) {
	if len(pfx) == 0 {
		return Thumbprint{}, errors.New("import pkcs#12: empty file")
	}
	pw, err := windows.UTF16PtrFromString(password)
	if err != nil {
		return Thumbprint{}, fmt.Errorf("import pkcs#12: password: %w", err)
	}
	blob := windows.CryptDataBlob{Size: uint32(len(pfx)), Data: &pfx[0]}
	tmp, err := windows.PFXImportCertStore(&blob, pw, windows.CRYPT_USER_KEYSET)
	if err != nil {
		return Thumbprint{}, fmt.Errorf("import pkcs#12: PFXImportCertStore: %w", err)
	}
	defer windows.CertCloseStore(tmp, 0)
	my, err := openStore(My)
	if err != nil {
		return Thumbprint{}, err
	}
	defer windows.CertCloseStore(my, 0)

	var first *Thumbprint
	var ctx *windows.CertContext
	for {
		ctx, _ = windows.CertEnumCertificatesInStore(tmp, ctx)
		if ctx == nil {
			break
		}
		if _, err := property(ctx, certKeyProvInfoPropID); err != nil {
			continue // part of the chain, no key
		}
		if err := addLeaf(my, ctx); err != nil {
			windows.CertFreeCertificateContext(ctx)
			return Thumbprint{}, fmt.Errorf("import pkcs#12: add to CurrentUser\\MY: %w", err)
		}
		if first == nil {
			t := Thumbprint(sha1.Sum(encoded(ctx)))
			first = &t
		}
	}
	if first == nil {
		return Thumbprint{}, ErrNoLeaf
	}
	return *first, nil
}

// addLeaf adds an imported certificate, whose key PFXImportCertStore has
// just persisted in a fresh container, to My. If My already holds it with
// a usable key, the fresh container is deleted instead; if it replaces a
// copy, the copy's old container is deleted. Importing again thus leaves
// no orphaned keys. Containers are compared by name because Wine gives
// every import the same one.
func addLeaf(my windows.Handle, ctx *windows.CertContext) error {
	fresh, _ := property(ctx, certKeyProvInfoPropID)
	var stale []byte
	if old, err := findCtx(my, My, Thumbprint(sha1.Sum(encoded(ctx)))); err == nil {
		oldInfo, _ := property(old, certKeyProvInfoPropID)
		usable := acquireKey(old) == nil
		windows.CertFreeCertificateContext(old)
		if usable {
			dropKey(fresh, oldInfo)
			return nil
		}
		stale = oldInfo
	}
	if err := windows.CertAddCertificateContextToStore(my, ctx, windows.CERT_STORE_ADD_REPLACE_EXISTING, nil); err != nil {
		return err
	}
	dropKey(stale, fresh)
	return nil
}

// dropKey deletes the key container described by the CRYPT_KEY_PROV_INFO
// victim unless it is the one described by keep. It is best effort: a
// container left behind costs disk space, not safety.
func dropKey(victim, keep []byte) {
	v, ok := provInfo(victim)
	if !ok {
		return
	}
	if k, ok := provInfo(keep); ok && sameContainer(v, k) {
		return
	}
	deleteKey(v)
}

func provInfo(b []byte) (*cryptKeyProvInfo, bool) {
	if len(b) < int(unsafe.Sizeof(cryptKeyProvInfo{})) {
		return nil, false
	}
	return (*cryptKeyProvInfo)(unsafe.Pointer(&b[0])), true
}

func sameContainer(a, b *cryptKeyProvInfo) bool {
	return windows.UTF16PtrToString(a.ContainerName) == windows.UTF16PtrToString(b.ContainerName) &&
		windows.UTF16PtrToString(a.ProvName) == windows.UTF16PtrToString(b.ProvName)
}

// findCtx returns the context of certificate t in the open store; the
// caller frees it.
func findCtx(store windows.Handle, s Store, t Thumbprint) (*windows.CertContext, error) {
	blob := windows.CryptHashBlob{Size: uint32(len(t)), Data: &t[0]}
	ctx, err := windows.CertFindCertificateInStore(store, encoding, 0, windows.CERT_FIND_SHA1_HASH, unsafe.Pointer(&blob), nil)
	if ctx == nil {
		return nil, fmt.Errorf("%w: %s in CurrentUser\\%s (%v)", ErrNotFound, t, s, err)
	}
	return ctx, nil
}

func find(s Store, t Thumbprint) (*x509.Certificate, error) {
	store, err := openStore(s)
	if err != nil {
		return nil, err
	}
	defer windows.CertCloseStore(store, 0)
	ctx, err := findCtx(store, s, t)
	if err != nil {
		return nil, err
	}
	defer windows.CertFreeCertificateContext(ctx)
	return x509.ParseCertificate(append([]byte(nil), encoded(ctx)...))
}

func checkKey(t Thumbprint) error {
	store, err := openStore(My)
	if err != nil {
		return err
	}
	defer windows.CertCloseStore(store, 0)
	ctx, err := findCtx(store, My, t)
	if err != nil {
		return err
	}
	defer windows.CertFreeCertificateContext(ctx)
	if err := acquireKey(ctx); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrNoKey, t, err)
	}
	return nil
}

// acquireKey acquires and releases the private key of ctx, silently, with
// Windows comparing it against the certificate's public key.
func acquireKey(ctx *windows.CertContext) error {
	var key windows.Handle
	var spec uint32
	var mustFree bool
	flags := uint32(windows.CRYPT_ACQUIRE_SILENT_FLAG | windows.CRYPT_ACQUIRE_COMPARE_KEY_FLAG | windows.CRYPT_ACQUIRE_ALLOW_NCRYPT_KEY_FLAG)
	if err := windows.CryptAcquireCertificatePrivateKey(ctx, flags, nil, &key, &spec, &mustFree); err != nil {
		return err
	}
	if mustFree {
		if spec == windows.CERT_NCRYPT_KEY_SPEC {
			procNCryptFreeObject.Call(uintptr(key))
		} else {
			windows.CryptReleaseContext(key, 0)
		}
	}
	return nil
}

func deleteCert(s Store, t Thumbprint) error {
	store, err := openStore(s)
	if err != nil {
		return err
	}
	defer windows.CertCloseStore(store, 0)
	ctx, err := findCtx(store, s, t)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var info []byte
	if s == My {
		info, _ = property(ctx, certKeyProvInfoPropID)
	}
	// CertDeleteCertificateFromStore frees ctx, also on failure.
	if err := windows.CertDeleteCertificateFromStore(ctx); err != nil {
		return fmt.Errorf("delete %s from CurrentUser\\%s: %w", t, s, err)
	}
	if pi, ok := provInfo(info); ok {
		if err := deleteKey(pi); err != nil {
			return fmt.Errorf("delete private key of %s: %w", t, err)
		}
	}
	return nil
}

// deleteKey removes the persisted key container a certificate pointed to,
// through CryptoAPI (ProvType != 0) or CNG (ProvType == 0). A container
// that is already gone is not an error.
func deleteKey(info *cryptKeyProvInfo) error {
	if info.ContainerName == nil {
		return nil
	}
	if info.ProvType != 0 {
		var h windows.Handle
		err := windows.CryptAcquireContext(&h, info.ContainerName, info.ProvName, info.ProvType,
			windows.CRYPT_DELETEKEYSET|(info.Flags&cryptMachineKeyset))
		if errors.Is(err, windows.Errno(nteBadKeyset)) {
			return nil
		}
		return err
	}
	var prov, key uintptr
	if r, _, _ := procNCryptOpenStorageProvider.Call(uintptr(unsafe.Pointer(&prov)), uintptr(unsafe.Pointer(info.ProvName)), 0); r != 0 {
		return fmt.Errorf("NCryptOpenStorageProvider: %#x", r)
	}
	defer procNCryptFreeObject.Call(prov)
	r, _, _ := procNCryptOpenKey.Call(prov, uintptr(unsafe.Pointer(&key)), uintptr(unsafe.Pointer(info.ContainerName)), 0, uintptr(info.Flags&cryptMachineKeyset))
	if uint32(r) == nteBadKeyset || uint32(r) == nteNotFound {
		return nil
	}
	if r != 0 {
		return fmt.Errorf("NCryptOpenKey: %#x", r)
	}
	if r, _, _ := procNCryptDeleteKey.Call(key, 0); r != 0 { // frees key
		return fmt.Errorf("NCryptDeleteKey: %#x", r)
	}
	return nil
}

func add(s Store, cert *x509.Certificate, emailOnly bool) error {
	if len(cert.Raw) == 0 {
		return errors.New("add certificate: no DER encoding")
	}
	ctx, err := windows.CertCreateCertificateContext(encoding, &cert.Raw[0], uint32(len(cert.Raw)))
	if err != nil {
		return fmt.Errorf("add certificate: %w", err)
	}
	defer windows.CertFreeCertificateContext(ctx)
	if emailOnly {
		der, err := asn1.Marshal([]asn1.ObjectIdentifier{oidEmailProtection})
		if err != nil {
			return err
		}
		blob := windows.CryptDataBlob{Size: uint32(len(der)), Data: &der[0]}
		r, _, err := procCertSetCertificateContextProperty.Call(uintptr(unsafe.Pointer(ctx)), certEnhKeyUsagePropID, 0, uintptr(unsafe.Pointer(&blob)))
		if r == 0 {
			return fmt.Errorf("restrict certificate to e-mail: %w", err)
		}
	}
	store, err := openStore(s)
	if err != nil {
		return err
	}
	defer windows.CertCloseStore(store, 0)
	err = windows.CertAddCertificateContextToStore(store, ctx, windows.CERT_STORE_ADD_REPLACE_EXISTING, nil)
	if errors.Is(err, windows.ERROR_CANCELLED) {
		return fmt.Errorf("add %s to CurrentUser\\%s: %w", ThumbprintOf(cert), s, ErrTrustDeclined)
	}
	if err != nil {
		return fmt.Errorf("add %s to CurrentUser\\%s: %w", ThumbprintOf(cert), s, err)
	}
	return nil
}

func trustCA(ca *x509.Certificate) (Store, error) {
	// Already trusted: adding again would raise Windows' dialog again.
	if _, err := find(Root, ThumbprintOf(ca)); err == nil {
		return Root, nil
	}
	err := add(Root, ca, true)
	if err == nil {
		return Root, nil
	}
	if !errors.Is(err, ErrTrustDeclined) {
		return "", err
	}
	if err2 := add(CA, ca, true); err2 != nil {
		return "", errors.Join(err, err2)
	}
	return CA, err
}
