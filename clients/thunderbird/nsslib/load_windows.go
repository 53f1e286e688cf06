package nsslib

import (
	"path/filepath"

	"golang.org/x/sys/windows"
)

// libraryFiles: Mozilla folds NSPR, nssutil and smime into nss3.dll.
var libraryFiles = []string{LibraryFile}

// LibraryFile is the NSS library in Thunderbird's install folder.
const LibraryFile = "nss3.dll"

// openLibrary loads the DLL by its full path; LOAD_WITH_ALTERED_SEARCH_PATH
// makes Windows resolve its dependencies (mozglue.dll) from the DLL's own
// folder, and SetDllDirectory lets NSS find softokn3.dll and freebl3.dll
// there when it loads them later.
func openLibrary(path string) (uintptr, error) {
	if err := windows.SetDllDirectory(filepath.Dir(path)); err != nil {
		return 0, err
	}
	h, err := windows.LoadLibraryEx(path, 0, windows.LOAD_WITH_ALTERED_SEARCH_PATH)
	return uintptr(h), err
}

func lookup(h uintptr, name string) (uintptr, error) {
	return windows.GetProcAddress(windows.Handle(h), name)
}
