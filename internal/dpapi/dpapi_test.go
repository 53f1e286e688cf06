package dpapi

import (
	"errors"
	"testing"
)

func TestProtectEmpty(t *testing.T) {
	if _, err := Protect(nil, nil, "x"); !errors.Is(err, ErrEmpty) {
		t.Errorf("Protect(nil): got %v, want ErrEmpty", err)
	}
}
