package thunderbird

import "path/filepath"

// builtinRoots lists where the NSS builtin roots module Thunderbird loads
// at run time may be: its install folder first (Mozilla's builds), then
// the system's (Debian's package loads the one from libnss3).
func builtinRoots(installDir string) []string {
	sys, _ := filepath.Glob("/usr/lib/*-linux-gnu/libnssckbi.so")
	return append(append([]string{filepath.Join(installDir, "libnssckbi.so")}, sys...),
		"/usr/lib64/libnssckbi.so", "/usr/lib/libnssckbi.so")
}
