package thunderbird

import (
	"fmt"

	"github.com/endymail/endymail/clients"
)

// checkNotRunning returns an error wrapping [clients.ErrClientRunning] when
// Thunderbird holds the profile's lock. The platform primitive is
// profileLocked (lock_unix.go, lock_windows.go).
func checkNotRunning(dir string) error {
	locked, why, err := profileLocked(dir)
	if err != nil {
		return fmt.Errorf("check whether Thunderbird uses %s: %w", dir, err)
	}
	if locked {
		return fmt.Errorf("profile %s is in use (%s): %w", dir, why, clients.ErrClientRunning)
	}
	return nil
}
