//go:build unix

package gnupg

import (
	"errors"

	"golang.org/x/sys/unix"
)

func processAlive(pid int) (bool, error) {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM), nil
}
