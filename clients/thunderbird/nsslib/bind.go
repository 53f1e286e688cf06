//go:build linux || darwin || windows

package nsslib

import (
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/ebitengine/purego"
)

// bind points every func field of l at the C function its `nss` tag
// names, looked up in handles in order.
func bind(l *lib, handles []uintptr) error {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		return fmt.Errorf("the NSS struct offsets are for 64-bit targets: %w", errors.ErrUnsupported)
	}
	v := reflect.ValueOf(l).Elem()
	t := v.Type()
	for i := range t.NumField() {
		name := t.Field(i).Tag.Get("nss")
		var addr uintptr
		for _, h := range handles {
			if a, err := lookup(h, name); err == nil && a != 0 {
				addr = a
				break
			}
		}
		if addr == 0 {
			return fmt.Errorf("function %s not found", name)
		}
		f := v.Field(i)
		purego.RegisterFunc(reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Interface(), addr)
	}
	return nil
}

// goString copies the NUL-terminated C string at p ("" for NULL).
func goString(p ptr) string {
	if p == nil {
		return ""
	}
	n := 0
	for *(*byte)(unsafe.Add(p, n)) != 0 {
		n++
	}
	return string(unsafe.Slice((*byte)(p), n))
}

// Layouts read from C memory. Offsets are for 64-bit targets (amd64,
// arm64; the same under LP64 and LLP64, as none of these structs holds a
// long) and were checked with offsetof against the NSS 3.87 headers:
//
//   - SECItem (seccomon.h): type int32 @0, data @8, len uint32 @16; 24 bytes.
//   - CERTCertList (certt.h): PRCList list @0 (next @0, prev @8).
//   - CERTCertListNode (certt.h): PRCList links @0, cert @16, appData @24.
//   - SECKEYPrivateKeyList / SECKEYPrivateKeyListNode (keythi.h): the same
//     shape, key @16.
//   - CERTCertificateList (certt.h): certs (SECItem array) @0, len int @8.
//   - CERTCertificate (certt.h): derCert (SECItem) @120, emailAddr @560,
//     nickname @648. NSS keeps this struct's layout stable (it is public
//     ABI); no function returns these fields.
const (
	itemSize      = 24
	itemData      = 8
	itemLen       = 16
	nodeValue     = 16
	nodeAppData   = 24
	certDER       = 120
	certEmailAddr = 560
	certNickname  = 648
)

func field(p ptr, off uintptr) ptr { return *(*ptr)(unsafe.Add(p, off)) }

// itemBytes copies the contents of the SECItem at item.
func itemBytes(item ptr) []byte {
	data, n := field(item, itemData), *(*uint32)(unsafe.Add(item, itemLen))
	if data == nil || n == 0 {
		return nil
	}
	return append([]byte(nil), unsafe.Slice((*byte)(data), n)...)
}

// listEach calls f with the value of every node of a CERTCertList or
// SECKEYPrivateKeyList, and the node's appData.
func listEach(list ptr, f func(value, appData ptr)) {
	if list == nil {
		return
	}
	for node := field(list, 0); node != list; node = field(node, 0) {
		f(field(node, nodeValue), field(node, nodeAppData))
	}
}
