package nsslib

// libraryFiles are loaded in this order from Thunderbird.app/Contents/MacOS
// when present; Mozilla folds NSPR, nssutil and smime into libnss3.dylib.
// The softoken and freebl are loaded ahead of NSS opening them by name
// (see load_linux.go).
var libraryFiles = []string{
	"libnspr4.dylib", "libmozsqlite3.dylib", "libnssutil3.dylib", LibraryFile,
	"libsmime3.dylib", "libfreebl3.dylib", "libsoftokn3.dylib",
}

// LibraryFile is the NSS library in Thunderbird's install folder.
const LibraryFile = "libnss3.dylib"
