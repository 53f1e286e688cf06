//go:build windows

package dpapi

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

func blob(b []byte) *windows.DataBlob {
	if len(b) == 0 {
		return &windows.DataBlob{}
	}
	return &windows.DataBlob{Size: uint32(len(b)), Data: &b[0]}
}

// take copies out and frees the buffer Windows allocated for it.
func take(out windows.DataBlob) []byte {
	defer windows.LocalFree(windows.Handle(unsafe.Pointer(out.Data)))
	return append([]byte(nil), unsafe.Slice(out.Data, out.Size)...)
}

func protect(plain, entropy []byte, description string) ([]byte, error) {
	desc, err := windows.UTF16PtrFromString(description)
	if err != nil {
		return nil, fmt.Errorf("dpapi protect: description: %w", err)
	}
	var ent *windows.DataBlob
	if len(entropy) > 0 {
		ent = blob(entropy)
	}
	var out windows.DataBlob
	if err := windows.CryptProtectData(blob(plain), desc, ent, 0, nil, windows.CRYPTPROTECT_UI_FORBIDDEN, &out); err != nil {
		return nil, fmt.Errorf("dpapi protect: %w", err)
	}
	return take(out), nil
}

func unprotect(b, entropy []byte) ([]byte, error) {
	var ent *windows.DataBlob
	if len(entropy) > 0 {
		ent = blob(entropy)
	}
	var out windows.DataBlob
	if err := windows.CryptUnprotectData(blob(b), nil, ent, 0, nil, windows.CRYPTPROTECT_UI_FORBIDDEN, &out); err != nil {
		return nil, fmt.Errorf("dpapi unprotect: %w", err)
	}
	return take(out), nil
}
