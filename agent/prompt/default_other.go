//go:build !windows && (!unix || darwin)

package prompt

import (
	"errors"
	"fmt"
)

// Default has no desktop prompt on this platform yet: the CLI path
// (`endymail pending`, `endymail approve`) remains.
func Default() (Prompter, error) {
	return nil, fmt.Errorf("approval prompt: %w", errors.ErrUnsupported)
}
