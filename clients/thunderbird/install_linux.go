package thunderbird

import "os"

// installCandidates are the folders where Linux packages put Thunderbird
// and its NSS libraries: Debian/Ubuntu, Fedora, the tarball, Snap, Flatpak.
func installCandidates() []string {
	return []string{
		"/usr/lib/thunderbird",
		"/usr/lib64/thunderbird",
		"/opt/thunderbird",
		"/usr/local/lib/thunderbird",
		"/snap/thunderbird/current/usr/lib/thunderbird",
		"/var/lib/flatpak/app/org.mozilla.Thunderbird/current/active/files/lib/thunderbird",
		os.ExpandEnv("$HOME/.local/share/flatpak/app/org.mozilla.Thunderbird/current/active/files/lib/thunderbird"),
	}
}

// nssLibrary is the file that marks an install folder holding NSS.
const nssLibrary = "libsoftokn3.so"

// libraryEnv points the dynamic loader at dir ahead of the system's NSS.
func libraryEnv(dir string) string { return prependEnv("LD_LIBRARY_PATH", dir) }
