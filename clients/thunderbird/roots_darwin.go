package thunderbird

import "path/filepath"

// platformRoots is the folder holding profiles.ini on macOS.
func platformRoots(home string) []string {
	return []string{filepath.Join(home, "Library", "Thunderbird")}
}
