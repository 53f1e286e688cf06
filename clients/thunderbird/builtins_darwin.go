package thunderbird

import "path/filepath"

// builtinRoots lists where the NSS builtin roots module Thunderbird loads
// at run time may be: next to its NSS in the app bundle.
func builtinRoots(installDir string) []string {
	return []string{filepath.Join(installDir, "libnssckbi.dylib")}
}
