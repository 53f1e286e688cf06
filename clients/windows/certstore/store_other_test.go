//go:build !windows

package certstore

import (
	"errors"
	"testing"
)

func TestUnsupported(t *testing.T) {
	if _, err := ImportPFX([]byte{1}, ""); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("ImportPFX: got %v, want ErrUnsupported", err)
	}
	if err := Delete(My, Thumbprint{}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Delete: got %v, want ErrUnsupported", err)
	}
}
