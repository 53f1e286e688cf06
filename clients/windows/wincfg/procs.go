package wincfg

// Processes returns the executable file names (such as "OUTLOOK.EXE") of
// the processes running on this machine, from a Toolhelp snapshot. On
// platforms other than Windows it returns an error wrapping
// errors.ErrUnsupported.
func Processes() ([]string, error) { return processes() }
