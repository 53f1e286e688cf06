//go:build !windows

package wincfg

import (
	"errors"
	"testing"
)

func TestProcessesUnsupported(t *testing.T) {
	if _, err := Processes(); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Processes: got error %v, want errors.ErrUnsupported", err)
	}
}
