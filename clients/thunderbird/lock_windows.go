package thunderbird

import (
	"errors"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// profileLocked reports whether Thunderbird holds `parent.lock`, which it
// keeps open with no sharing while it runs: opening it exclusively then
// fails with a sharing violation.
func profileLocked(dir string) (bool, string, error) {
	name, err := windows.UTF16PtrFromString(filepath.Join(dir, "parent.lock"))
	if err != nil {
		return false, "", err
	}
	h, err := windows.CreateFile(name, windows.GENERIC_READ, 0, nil, windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	switch {
	case err == nil:
		windows.CloseHandle(h)
		return false, "", nil
	case errors.Is(err, windows.ERROR_FILE_NOT_FOUND):
		return false, "", nil
	case errors.Is(err, windows.ERROR_SHARING_VIOLATION), errors.Is(err, windows.ERROR_LOCK_VIOLATION):
		return true, "parent.lock is held open", nil
	}
	return false, "", err
}
