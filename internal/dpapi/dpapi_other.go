//go:build !windows

package dpapi

import (
	"errors"
	"fmt"
)

var errUnsupported = fmt.Errorf("windows data protection api: %w", errors.ErrUnsupported)

func protect([]byte, []byte, string) ([]byte, error) { return nil, errUnsupported }

func unprotect([]byte, []byte) ([]byte, error) { return nil, errUnsupported }
