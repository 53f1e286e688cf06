//go:build windows

package device

import "github.com/endymail/endymail/internal/dpapi"

// atRestEntropy binds the protected blob to its purpose.
var atRestEntropy = []byte("endymail device keys v1")

// sealAtRest protects the device keys with DPAPI for the current user, on
// top of the home folder's per-user permissions.
func sealAtRest(plain []byte) ([]byte, error) {
	return dpapi.Protect(plain, atRestEntropy, "endymail device keys")
}

// openAtRest undoes sealAtRest.
func openAtRest(blob []byte) ([]byte, error) { return dpapi.Unprotect(blob, atRestEntropy) }
