package thunderbird

import "path/filepath"

// builtinRoots lists where the NSS builtin roots module Thunderbird loads
// at run time may be: its install folder.
func builtinRoots(installDir string) []string {
	return []string{filepath.Join(installDir, "nssckbi.dll")}
}
