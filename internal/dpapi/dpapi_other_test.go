//go:build !windows

package dpapi

import (
	"errors"
	"testing"
)

func TestUnsupported(t *testing.T) {
	if _, err := Protect([]byte("x"), nil, ""); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Protect: got %v, want ErrUnsupported", err)
	}
	if _, err := Unprotect([]byte("x"), nil); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Unprotect: got %v, want ErrUnsupported", err)
	}
}
