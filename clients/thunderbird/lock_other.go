//go:build !unix && !windows

package thunderbird

import "errors"

func profileLocked(dir string) (bool, string, error) {
	return false, "", errors.ErrUnsupported
}
