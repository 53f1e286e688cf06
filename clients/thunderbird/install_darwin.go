package thunderbird

// installCandidates is where Thunderbird.app keeps its NSS libraries.
func installCandidates() []string {
	return []string{"/Applications/Thunderbird.app/Contents/MacOS"}
}

const nssLibrary = "libsoftokn3.dylib"

// libraryEnv points the dynamic loader at dir ahead of the system's NSS.
func libraryEnv(dir string) string { return prependEnv("DYLD_LIBRARY_PATH", dir) }
