package thunderbird

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/endymail/endymail/clients/thunderbird/nsslib"
)

// nssDB is what the configurator does to a profile's NSS database (dir,
// the staged copy of cert9.db and key4.db). Two backends implement it:
// [nssTools] (certutil, pk12util, pwdecrypt) and [nssLib] (Thunderbird's
// own NSS library through package nsslib). Their contract is the same:
//   - a damaged or unreadable database wraps [clients.ErrCorrupt];
//   - an unknown nickname is no error for certsByNick and deleteNick (no
//     certificates, nothing to delete), and is one for setTrust;
//   - every other failure names the operation and quotes NSS's error.
type nssDB interface {
	// createDB makes an empty database with no password, as Thunderbird's
	// first start does.
	createDB(ctx context.Context, dir string) error
	// listing returns nickname → trust flags as certutil prints them
	// ("u,u,u", ",C,", "CT,C,C").
	listing(ctx context.Context, dir string) (map[string]string, error)
	// certsByNick returns the DER certificates stored under nick.
	certsByNick(ctx context.Context, dir, nick string) ([][]byte, error)
	// addCert stores der under nick with trust; a certificate already in
	// the database keeps its nickname and gets the trust.
	addCert(ctx context.Context, dir, nick, trust string, der []byte) error
	// setTrust changes the trust of the certificate under nick.
	setTrust(ctx context.Context, dir, nick, trust string) error
	// keyNicks returns the nicknames of the private keys.
	keyNicks(ctx context.Context, dir string) (map[string]bool, error)
	// importPKCS12 imports a PKCS#12's key and certificates.
	importPKCS12(ctx context.Context, dir string, p12 []byte, password string) error
	// deleteNick removes every certificate under nick, with withKey their
	// private keys too.
	deleteNick(ctx context.Context, dir, nick string, withKey bool) error
	// openPGPPassphrase decrypts the contents of
	// encrypted-openpgp-passphrase.txt (base64 of an SDR blob).
	openPGPPassphrase(ctx context.Context, dir string, enc []byte) ([]byte, error)
	// mailTrust returns leaf's trust flags as certutil -t takes them
	// ("SSL,EMAIL,OBJSIGN", see mailTrusted) and whether it is in the
	// database at all.
	mailTrust(ctx context.Context, dir, address string, leaf *x509.Certificate) (trust string, present bool, err error)
}

// nssVerifier is what reading the certificates of received mail needs
// beyond nssDB, on a snapshot of the database (see snapshotNSS). Same
// error contract as nssDB.
type nssVerifier interface {
	// emailFingerprints returns the SHA-256 fingerprints (colon hex, as
	// certutil prints them) of the certificates NSS files under address.
	emailFingerprints(ctx context.Context, dir, address string) (map[string]bool, error)
	// addBuiltinRoots adds the first builtin roots module found among
	// builtinRoots(installDir) to the database's module list; false when
	// there is none.
	addBuiltinRoots(ctx context.Context, dir, installDir string) (bool, error)
	// verifyRecipient verifies der now for an e-mail recipient; a
	// certificate NSS refuses wraps errNotRecipient with NSS's reason.
	verifyRecipient(ctx context.Context, dir string, der []byte) error
	// chainNicks returns the nicknames of the chain NSS builds for nick,
	// root first ("(null)" where a certificate has none).
	chainNicks(ctx context.Context, dir, nick string) ([]string, error)
}

// nss is a whole backend.
type nss interface {
	nssDB
	nssVerifier
}

var (
	_ nss = (*nssTools)(nil)
	_ nss = (*nssLib)(nil)
)

// nssBackend forces a backend in tests: "lib" or "tools"; "" picks the
// tools where they are installed and the library elsewhere. Only tests set
// it (TestMain from ENDYMAIL_NSS_BACKEND, and withLibBackend); the program
// never does.
var nssBackend string

// findNSS picks the backend for Thunderbird's NSS in installDir (or the
// platform's usual install folders when it is ""): the NSS tools run
// against Thunderbird's libraries where they are installed (Linux, macOS
// with the tools), else Thunderbird's library in process (Windows, or no
// libnss3-tools). With neither it returns [ErrNSSToolsMissing].
func findNSS(installDir string) (nss, error) {
	if nssBackend != "lib" {
		tools, err := findTools(installDir)
		if err == nil {
			return tools, nil
		}
		if nssBackend == "tools" || !errors.Is(err, ErrNSSToolsMissing) {
			return nil, err
		}
	}
	dir, err := thunderbirdInstall(installDir)
	if err != nil {
		return nil, err
	}
	if !nsslib.Present(dir) {
		return nil, fmt.Errorf("no %s in %s either: %w", nsslib.LibraryFile, dir, ErrNSSToolsMissing)
	}
	return &nssLib{libDir: dir}, nil
}
