//go:build !linux && !darwin && !windows

package thunderbird

// platformRoots: no known profile location on this platform.
func platformRoots(home string) []string { return nil }
