package thunderbird

import "path/filepath"

// platformRoots are the folders holding profiles.ini on Linux: the Debian
// and tarball layout, Flatpak and Snap.
func platformRoots(home string) []string {
	return []string{
		filepath.Join(home, ".thunderbird"),
		filepath.Join(home, ".var", "app", "org.mozilla.Thunderbird", ".thunderbird"),
		filepath.Join(home, "snap", "thunderbird", "common", ".thunderbird"),
	}
}
