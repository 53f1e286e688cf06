package winreg

// CurrentUser returns the registry of HKEY_CURRENT_USER. On platforms other
// than Windows it returns an error wrapping errors.ErrUnsupported.
func CurrentUser() (Registry, error) { return currentUser() }

// LocalMachine returns HKEY_LOCAL_MACHINE, for reading machine-wide facts
// (writing needs administrator rights, which endymail never asks for). On
// platforms other than Windows it returns an error wrapping
// errors.ErrUnsupported.
func LocalMachine() (Registry, error) { return localMachine() }
