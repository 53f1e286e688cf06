//go:build unix

package autostart

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/endymail/endymail/internal/atomicfile"
)

// The files of the Unix mechanisms (systemd user unit, XDG autostart entry,
// LaunchAgent) carry Marker, so that endymail never overwrites or removes
// a file it did not write.

// writeOurs writes content to path atomically (mode 0644, folders 0700 as
// needed) unless it already holds exactly that; it refuses to overwrite a
// file that is not ours. It reports whether it wrote.
func writeOurs(path string, content []byte) (bool, error) {
	old, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(old, content):
		return false, nil
	case err == nil && !bytes.Contains(old, []byte(Marker)):
		return false, fmt.Errorf("%w: %s", ErrNotOurs, path)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, err
	}
	return true, atomicfile.WriteFile(path, content, 0o644)
}

// removeOurs removes path if it is ours; it reports whether it existed.
func removeOurs(path string) (bool, error) {
	old, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !bytes.Contains(old, []byte(Marker)) {
		return false, fmt.Errorf("%w: %s", ErrNotOurs, path)
	}
	return true, os.Remove(path)
}

// isOurs reports whether path exists and carries the marker.
func isOurs(path string) bool {
	b, err := os.ReadFile(path)
	return err == nil && bytes.Contains(b, []byte(Marker))
}
