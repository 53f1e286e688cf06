//go:build !linux && !darwin && !windows

package thunderbird

func installCandidates() []string { return nil }

const nssLibrary = ""

func libraryEnv(dir string) string { return "" }
