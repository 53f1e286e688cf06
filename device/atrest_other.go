//go:build !windows

package device

import "bytes"

// sealAtRest copies plain: the home folder's mode 0700 and the files' mode
// 0600 are the protection here (Windows adds DPAPI).
func sealAtRest(plain []byte) ([]byte, error) { return bytes.Clone(plain), nil }

// openAtRest undoes sealAtRest.
func openAtRest(blob []byte) ([]byte, error) { return bytes.Clone(blob), nil }
