//go:build !windows

package winui

import (
	"errors"
	"fmt"
)

func ask(string, string) (Answer, error) {
	return No, fmt.Errorf("windows message box: %w", errors.ErrUnsupported)
}
