package thunderbird

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/endymail/endymail/clients/thunderbird/nsslib"
	"github.com/endymail/endymail/clients/thunderbird/tbtest"
	"github.com/endymail/endymail/internal/interop"
)

func TestFindNSSWithoutTools(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := findTools("")
	if !errors.Is(err, ErrNSSToolsMissing) || !strings.Contains(err.Error(), "libnss3-tools") {
		t.Errorf("findTools with an empty PATH: got %v, want ErrNSSToolsMissing naming libnss3-tools", err)
	}
	// An install folder with the softoken but no libnss3: neither backend.
	dir := t.TempDir()
	if nssLibrary != "" {
		if err := os.WriteFile(filepath.Join(dir, nssLibrary), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if db, err := findNSS(dir); !errors.Is(err, ErrNSSToolsMissing) {
		t.Errorf("findNSS without tools or %s: got %T, %v; want ErrNSSToolsMissing", nsslib.LibraryFile, db, err)
	}
}

func TestFindNSSFallsBackToLibrary(t *testing.T) {
	if nssBackend == "tools" {
		t.Skip("ENDYMAIL_NSS_BACKEND=tools forbids the library")
	}
	interop.NeedFile(t, filepath.Join(tbtest.NSSLibDir, nsslib.LibraryFile), "thunderbird")
	t.Setenv("PATH", t.TempDir())
	db, err := findNSS(tbtest.NSSLibDir)
	if lib, ok := db.(*nssLib); err != nil || !ok || lib.libDir != tbtest.NSSLibDir {
		t.Errorf("findNSS(%s) without the tools: got %#v, %v; want the library backend", tbtest.NSSLibDir, db, err)
	}
}

// TestForcedBackend proves which backend the rest of the suite ran with.
func TestForcedBackend(t *testing.T) {
	db, err := findNSS("")
	if err != nil {
		t.Skip(err)
	}
	_, isLib := db.(*nssLib)
	if want := nssBackend == "lib"; isLib != want {
		t.Errorf("ENDYMAIL_NSS_BACKEND=%q: findNSS gave %T", nssBackend, db)
	}
	t.Logf("NSS backend: %T", db)
}

func TestThunderbirdInstallNotFound(t *testing.T) {
	dir := t.TempDir()
	if _, err := thunderbirdInstall(dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("thunderbirdInstall(%s): got %v, want an error naming the folder", dir, err)
	}
}

func TestDBKeyLayout(t *testing.T) {
	ca, caKey := testCA(t)
	for _, serial := range []int64{0x80, 0x7f, 1 << 40} {
		leaf := mustCert(t, &x509.Certificate{SerialNumber: big.NewInt(serial)}, ca, &caKey.PublicKey, caKey)
		key, err := DBKey(leaf)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := base64.StdEncoding.DecodeString(key)
		want := big.NewInt(serial).Bytes()
		if want[0]&0x80 != 0 {
			want = append([]byte{0}, want...)
		}
		n, m := binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint32(b[12:])
		if !bytes.Equal(b[:8], make([]byte, 8)) || int(n) != len(want) || int(m) != len(ca.RawSubject) ||
			!bytes.Equal(b[16:16+n], want) || !bytes.Equal(b[16+n:], ca.RawSubject) {
			t.Errorf("serial %#x: dbkey %x does not have the layout 0^8 | len | len | %x | issuer", serial, b, want)
		}
	}
	if _, err := rawSerial([]byte{0x30, 0x03, 0x02, 0x01}); err == nil {
		t.Errorf("rawSerial of a truncated certificate: got no error")
	}
}
