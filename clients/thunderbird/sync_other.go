//go:build !unix

package thunderbird

// syncDir is a no-op where folders cannot be opened for syncing (Windows:
// NTFS journals the rename itself).
func syncDir(dir string) error { return nil }
