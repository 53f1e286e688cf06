//go:build !windows

package main

import (
	"errors"
	"fmt"
)

func answer(string, bool) error {
	return fmt.Errorf("answer a message box: %w", errors.ErrUnsupported)
}
