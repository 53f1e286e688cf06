package thunderbird

import (
	"os"
	"path/filepath"
)

// installCandidates are the folders of the Thunderbird installer.
func installCandidates() []string {
	var out []string
	for _, v := range []string{"ProgramFiles", "ProgramFiles(x86)", "LOCALAPPDATA"} {
		if d := os.Getenv(v); d != "" {
			out = append(out, filepath.Join(d, "Mozilla Thunderbird"))
		}
	}
	return out
}

const nssLibrary = "softokn3.dll"

// libraryEnv puts dir first in PATH, where Windows looks for DLLs.
func libraryEnv(dir string) string { return prependEnv("PATH", dir) }
