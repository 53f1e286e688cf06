package gnupg

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/endymail/endymail/clients"
)

// lockedFiles are the files gpg guards with a dotlock ("FILE.lock") while
// it writes them.
var lockedFiles = []string{pubringKBX, pubringGPG, trustDB}

// checkNotLocked returns an error wrapping [clients.ErrClientRunning] when
// a live gpg holds one of the home's dotlocks: gpg would otherwise wait
// for it forever. A lock left by a dead process does not count (gpg
// removes such locks itself).
func checkNotLocked(home string) error {
	for _, name := range lockedFiles {
		lock := filepath.Join(home, name+".lock")
		b, err := os.ReadFile(lock)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read gpg lock %s: %w", lock, err)
		}
		pid, node, ok := parseDotlock(b)
		if !ok {
			return fmt.Errorf("gpg lock %s is held (unreadable owner): %w", lock, clients.ErrClientRunning)
		}
		host, _ := os.Hostname()
		if node != "" && node != host {
			return fmt.Errorf("gpg lock %s is held by process %d on host %s: %w", lock, pid, node, clients.ErrClientRunning)
		}
		alive, err := processAlive(pid)
		if err != nil {
			return fmt.Errorf("check gpg lock %s: %w", lock, err)
		}
		if alive {
			return fmt.Errorf("gpg lock %s is held by process %d: %w", lock, pid, clients.ErrClientRunning)
		}
	}
	return nil
}

// parseDotlock reads a dotlock file as gnupg's dotlock.c writes it: the
// PID as "%10d\n", then the node name and "\n".
func parseDotlock(b []byte) (pid int, node string, ok bool) {
	first, rest, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return 0, "", false
	}
	node, _, _ = strings.Cut(rest, "\n")
	return pid, strings.TrimSpace(node), true
}
