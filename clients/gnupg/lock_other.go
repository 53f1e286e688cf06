//go:build !unix

package gnupg

import "errors"

// processAlive is not implemented where gpg's dotlocks are not PID files
// (Windows gpg locks files with LockFileEx).
func processAlive(int) (bool, error) {
	return false, errors.ErrUnsupported
}
