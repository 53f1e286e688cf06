//go:build !windows

package winreg

import (
	"errors"
	"fmt"
)

func currentUser() (Registry, error) {
	return nil, fmt.Errorf("windows registry: %w", errors.ErrUnsupported)
}

func localMachine() (Registry, error) {
	return nil, fmt.Errorf("windows registry: %w", errors.ErrUnsupported)
}
