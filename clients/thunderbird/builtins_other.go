//go:build !linux && !darwin && !windows

package thunderbird

// builtinRoots: no known layout on this platform; certificates are then
// verified with the profile's own trust settings only.
func builtinRoots(string) []string { return nil }
