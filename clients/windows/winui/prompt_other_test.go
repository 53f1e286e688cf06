//go:build !windows

package winui

import (
	"errors"
	"testing"
)

func TestAskUnsupported(t *testing.T) {
	a, err := Ask("title", "text")
	if !errors.Is(err, errors.ErrUnsupported) || a != No {
		t.Errorf("Ask: got %v, %v; want No, ErrUnsupported", a, err)
	}
}
