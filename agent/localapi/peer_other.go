//go:build unix && !linux && !darwin

package localapi

import (
	"errors"
	"fmt"
)

// peerUIDFd has no implementation here: every connection is refused.
func peerUIDFd(fd int) (int, error) {
	return -1, fmt.Errorf("peer credentials: %w", errors.ErrUnsupported)
}
