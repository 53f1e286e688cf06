//go:build !unix

package atomicfile

// syncDir is a no-op where directories cannot be synced (Windows: the
// rename is made durable by the file system's journal).
func syncDir(string) {}
