package nsslib

// libraryFiles are loaded in this order from the install folder when
// present. Mozilla's own builds fold NSPR, nssutil and smime into
// libnss3.so; distributions (Debian) ship them apart, and NSPR may be the
// system's. The softoken and freebl are loaded too: NSS opens them later
// by name, and without them already in the process the dynamic loader
// hands it the system's older ones (seen on Debian 12: a crash in the
// system libsoftokn3.so during PKCS#12 import).
var libraryFiles = []string{
	"libnspr4.so", "libplc4.so", "libplds4.so", "libmozsqlite3.so", "libnssutil3.so",
	LibraryFile, "libsmime3.so", "libfreeblpriv3.so", "libsoftokn3.so",
}

// LibraryFile is the NSS library in Thunderbird's install folder.
const LibraryFile = "libnss3.so"
