//go:build !windows

package wincfg

import (
	"errors"
	"fmt"
)

func processes() ([]string, error) {
	return nil, fmt.Errorf("windows process list: %w", errors.ErrUnsupported)
}
