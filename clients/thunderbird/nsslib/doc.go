// Package nsslib drives the NSS library that ships inside Thunderbird's
// install folder (libnss3.so, nss3.dll, libnss3.dylib) without cgo, through
// github.com/ebitengine/purego. It is the Thunderbird configurator's NSS
// backend where the NSS command-line tools (certutil, pk12util, pwdecrypt)
// are missing, which is always the case on Windows: Thunderbird for Windows
// ships the libraries but not the tools.
//
// NSS keeps process-global state (one database per process) and a fault in
// it would take the whole process down, so every NSS session runs in a
// child process: [Run] starts os.Executable() with the environment variable
// [HelperEnv] set, writes one [Request] as JSON to its standard input and
// reads one [Response] from its standard output. Programs that use [Run]
// must call [ServeIfHelper] first thing in main (and in TestMain); it
// returns at once unless the variable is set.
//
// The operations are those of the NSS tools the configurator used before:
// list the certificates with their trust (certutil -L), the certificates
// under a nickname (certutil -L -n), add a certificate with trust
// (certutil -A), change trust (certutil -M), list private keys
// (certutil -K), import a PKCS#12 (pk12util -i), delete a certificate with
// or without its key (certutil -D / -F), SDR-decrypt (pwdecrypt), create an
// empty database (certutil -N --empty-password); and for the certificates
// of received mail: the certificates filed under an address
// (certutil -L --email), add a PKCS#11 module such as the builtin roots
// (modutil -add), verify a certificate for an e-mail recipient
// (vfychain -u 5) and the chain NSS builds (certutil -O). Errors carry the NSS
// error name (SEC_ERROR_BAD_PASSWORD, …); a damaged database is
// [ErrBadDatabase].
//
// Tested on Linux, against Thunderbird's own libnss3.so and checked
// against the real certutil, pk12util, pwdecrypt, modutil and vfychain
// reading the same database. The Windows loader (load_windows.go:
// LoadLibraryEx with LOAD_WITH_ALTERED_SEARCH_PATH, so that nss3.dll finds
// mozglue.dll and softokn3.dll beside it) has never run against a real
// nss3.dll: no Thunderbird-for-Windows NSS was available, under Wine or
// otherwise. Under Wine, TestWineLoader runs only the Windows build's
// helper process and loader, against a stand-in nss3.dll that exports
// nothing. Everything past loading is the same code as on Linux. Not
// checked there either: whether Windows' NSS takes the UTF-8 database
// path that NSS_Initialize gets for a profile under a non-ASCII user name.
// macOS (libnss3.dylib from Thunderbird.app) is likewise built and vetted,
// never run.
//
// The struct offsets this package reads are listed in bind.go; a leak of
// an NSS object makes NSS_Shutdown fail, which [Run] reports as an error,
// so the tests catch a missing free.
package nsslib
