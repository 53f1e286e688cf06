//go:build unix

package thunderbird

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// profileLocked checks both locks Thunderbird takes on Linux and macOS
// (toolkit/profile/nsProfileLock.cpp): the `lock` symlink whose target is
// "IP:+PID" (Linux) and an fcntl write lock on `.parentlock`. A symlink left
// by a crashed process (PID gone) does not count.
func profileLocked(dir string) (bool, string, error) {
	if target, err := os.Readlink(filepath.Join(dir, "lock")); err == nil {
		if pid, ok := lockPID(target); ok && processAlive(pid) {
			return true, fmt.Sprintf("lock held by process %d", pid), nil
		}
	}
	f, err := os.Open(filepath.Join(dir, ".parentlock"))
	if errors.Is(err, os.ErrNotExist) {
		return false, "", nil
	}
	if err != nil {
		return false, "", err
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	if err := unix.FcntlFlock(f.Fd(), unix.F_GETLK, &lk); err != nil {
		return false, "", fmt.Errorf("fcntl .parentlock: %w", err)
	}
	if lk.Type != unix.F_UNLCK {
		return true, fmt.Sprintf(".parentlock locked by process %d", lk.Pid), nil
	}
	return false, "", nil
}

// lockPID reads the PID from a lock symlink target "IP:+PID" or "IP:PID".
func lockPID(target string) (int, bool) {
	i := strings.LastIndexByte(target, ':')
	if i < 0 {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimPrefix(target[i+1:], "+"))
	return pid, err == nil && pid > 0
}

func processAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}
