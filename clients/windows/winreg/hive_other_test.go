//go:build !windows

package winreg

import (
	"errors"
	"testing"
)

func TestHivesUnsupported(t *testing.T) {
	if _, err := CurrentUser(); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("CurrentUser: got %v, want ErrUnsupported", err)
	}
	if _, err := LocalMachine(); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("LocalMachine: got %v, want ErrUnsupported", err)
	}
}
