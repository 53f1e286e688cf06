//go:build linux

package nsslib

import (
	"context"
	"encoding/base64"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/endymail/endymail/clients/thunderbird/tbtest"
)

// dbState is what certutil sees of a database: the certificate table and
// the key list.
func dbState(t testing.TB, db string) string {
	t.Helper()
	keys := ""
	// certutil -K fails with "no keys found" on a database without keys.
	if out, err := tryTool("certutil", "-K", "-d", "sql:"+db); err == nil {
		keys = out
	}
	return certutil(t, "-L", "-d", "sql:"+db) + keys
}

func TestDeleteSeenByCertutil(t *testing.T) {
	db := newDB(t)
	ca, id := identity(t, "carol@example.com")
	p12, err := id.PKCS12("pw")
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, db,
		Op{Kind: AddCert, Nick: "carol CA", Trust: "c,c,c", Data: ca.Cert.Raw},
		Op{Kind: SetTrust, Nick: "carol CA", Trust: ",C,"},
		Op{Kind: AddCert, Nick: "carol", Trust: ",,", Data: id.Cert.Raw},
		Op{Kind: ImportPKCS12, Data: p12, Password: "pw"})
	if got := certutilTrust(t, db, "carol CA"); got != ",C," {
		t.Errorf("after SetTrust: certutil shows %q, want %q", got, ",C,")
	}

	mustRun(t, db, Op{Kind: Delete, Nick: "carol CA"}, Op{Kind: Delete, Nick: "carol", WithKey: true}, Op{Kind: Delete, Nick: "nobody"})
	if out := certutil(t, "-L", "-d", "sql:"+db); strings.Contains(out, "carol") {
		t.Errorf("certutil -L after Delete: got\n%s\nwant no carol", out)
	}
	if out, err := tryTool("certutil", "-K", "-d", "sql:"+db); err == nil && strings.Contains(out, "rsa") {
		t.Errorf("certutil -K after Delete WithKey: got\n%s\nwant no key", out)
	}
}

func TestSetTrustUnknownNickname(t *testing.T) {
	db := newDB(t)
	_, err := Run(context.Background(), libDir(t), db, Op{Kind: SetTrust, Nick: "nobody", Trust: ",C,"})
	var e *Error
	// NSS's lookup may fail without setting an error code of its own, so
	// the error is checked for the operation and the nickname, not for a
	// code.
	if !errors.As(err, &e) || e.Op != SetTrust || !strings.Contains(e.What, "nobody") {
		t.Errorf("SetTrust of an unknown nickname: got %v, want an error naming the operation and the nickname", err)
	}
}

// TestImportRefusedChangesNothing: a wrong password, a truncated and a
// garbage PKCS#12 are refused with NSS's reason, and the database stays as
// certutil saw it.
func TestImportRefusedChangesNothing(t *testing.T) {
	db := newDB(t)
	_, id := identity(t, "dave@example.com")
	p12, err := id.PKCS12("right")
	if err != nil {
		t.Fatal(err)
	}
	before := dbState(t, db)
	for _, tc := range []struct {
		name, password, want string
		data                 []byte
	}{
		{"wrong password", "wrong", "SEC_ERROR_", p12},
		{"truncated", "right", "SEC_ERROR_", p12[:len(p12)/2]},
		{"garbage", "right", "SEC_ERROR_", []byte("\x30\x82\xff\xffnot a PFX")},
	} {
		_, err := Run(context.Background(), libDir(t), db, Op{Kind: ImportPKCS12, Data: tc.data, Password: tc.password})
		var e *Error
		if !errors.As(err, &e) || e.Op != ImportPKCS12 || !strings.Contains(e.Name, tc.want) {
			t.Errorf("%s: got %v, want an NSS %s… error from pkcs12", tc.name, err, tc.want)
		}
	}
	if after := dbState(t, db); after != before {
		t.Errorf("database changed by refused imports:\nbefore\n%s\nafter\n%s", before, after)
	}
}

func TestCorruptDatabase(t *testing.T) {
	db := newDB(t)
	for _, f := range []string{"cert9.db", "key4.db"} {
		if err := os.WriteFile(filepath.Join(db, f), []byte("this is not an SQLite database, not at all......"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, op := range []Op{{Kind: List}, {Kind: AddCert, Nick: "x", Trust: ",,", Data: []byte{0x30, 0}}} {
		_, err := Run(context.Background(), libDir(t), db, op)
		if !errors.Is(err, ErrBadDatabase) {
			t.Errorf("%s on a corrupt database: got %v, want ErrBadDatabase", op.Kind, err)
		}
	}
}

// TestDecryptMatchesPwdecrypt: the passphrase file the real Thunderbird
// wrote on its first start, decrypted by nsslib, equals pwdecrypt's
// output on the same profile.
func TestDecryptMatchesPwdecrypt(t *testing.T) {
	libDir(t)
	dir := tbtest.NewProfile(t)
	tbtest.FirstStart(t, dir)
	enc, err := os.ReadFile(filepath.Join(dir, "encrypted-openpgp-passphrase.txt"))
	if err != nil {
		t.Fatal(err)
	}
	blob, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(enc)))
	if err != nil {
		t.Fatalf("encrypted-openpgp-passphrase.txt is not base64: %v (%q)", err, enc)
	}
	res := mustRun(t, dir, Op{Kind: Decrypt, Data: blob})
	want := pwdecrypt(t, dir, enc)
	if got := string(res[0].Plain); got != want || got == "" {
		t.Errorf("Decrypt: got %q, want pwdecrypt's %q", got, want)
	}
}

// pwdecrypt runs the real pwdecrypt on enc and returns the plaintext from
// its `Decrypted: "…"` line.
func pwdecrypt(t testing.TB, dir string, enc []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(f, enc, 0o600); err != nil {
		t.Fatal(err)
	}
	out := strings.TrimSpace(tbtest.RunNSSTool(t, "pwdecrypt", "-d", "sql:"+dir, "-i", f))
	const prefix = `Decrypted: "`
	if !strings.HasPrefix(out, prefix) || !strings.HasSuffix(out, `"`) {
		t.Fatalf("pwdecrypt: %q", out)
	}
	return out[len(prefix) : len(out)-1]
}

func TestHelperCrashIsAnError(t *testing.T) {
	db := t.TempDir()
	for mode, want := range map[string]string{"segv": "SIGSEGV", "kill": "signal: killed"} {
		t.Setenv(testCrashEnv, mode)
		_, err := Run(context.Background(), libDir(t), db, Op{Kind: List})
		if !errors.Is(err, ErrHelper) || !strings.Contains(err.Error(), want) {
			t.Errorf("crashing helper (%s): got %.300v…, want ErrHelper with %q", mode, err, want)
		}
	}
	t.Setenv(testCrashEnv, "hang")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := Run(ctx, libDir(t), db, Op{Kind: List})
	if !errors.Is(err, ErrHelper) || time.Since(start) > 30*time.Second {
		t.Errorf("hanging helper: got %v after %v, want ErrHelper when the context ends", err, time.Since(start))
	}
}

func TestHelperRefusesBadRequest(t *testing.T) {
	var out strings.Builder
	if code := serve(strings.NewReader(`{"v":1,"lib":"relative","db":"/x","ops":[{"op":"list"}]}`), &out); code != 0 {
		t.Fatalf("serve: exit %d", code)
	}
	resp, err := DecodeResponse(strings.NewReader(out.String()), 1)
	if err != nil || resp.Err == nil || !strings.Contains(resp.Err.What, "absolute") {
		t.Errorf("serve of a relative library folder: got %+v, %v; want an error saying absolute", resp, err)
	}
}

// testCrashEnv makes the helper of this test binary crash ("segv",
// "kill") or hang ("hang") before serving: see TestMain.
const testCrashEnv = "NSSLIB_TEST_CRASH"

func crashForTest() {
	if _, helper := os.LookupEnv(HelperEnv); !helper {
		return
	}
	switch os.Getenv(testCrashEnv) {
	case "segv": // the Go runtime reports it and exits 2, as for a fault in NSS
		syscall.Kill(os.Getpid(), syscall.SIGSEGV)
		time.Sleep(time.Minute)
	case "kill":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Minute)
	case "hang":
		time.Sleep(time.Hour)
	}
}

// TestImportNicknameLikePk12util: a PKCS#12 without friendlyName into a
// database that has none of its certificates makes NSS ask the nickname
// callback; the nicknames must be those pk12util gives the same file.
func TestImportNicknameLikePk12util(t *testing.T) {
	_, id := identity(t, "erin@example.com")
	p12, err := id.PKCS12("pw")
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := newDB(t), newDB(t)
	mustRun(t, ours, Op{Kind: ImportPKCS12, Data: p12, Password: "pw"})
	dir := t.TempDir()
	f, pw := filepath.Join(dir, "x.p12"), filepath.Join(dir, "pw")
	if err := os.WriteFile(f, p12, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pw, []byte("pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tbtest.RunNSSTool(t, "pk12util", "-i", f, "-d", "sql:"+theirs, "-w", pw)
	got, want := mustRun(t, ours, Op{Kind: List})[0].Trust, mustRun(t, theirs, Op{Kind: List})[0].Trust
	if len(got) == 0 || !maps.Equal(got, want) {
		t.Errorf("after import without nicknames: nsslib gave %v, pk12util %v", got, want)
	}
}

func TestEmptyDatabase(t *testing.T) {
	db := newDB(t)
	res := mustRun(t, db, Op{Kind: List}, Op{Kind: Keys}, Op{Kind: Certs, Nick: "x"}, Op{Kind: Find, Data: []byte{0x30, 0}},
		Op{Kind: Delete, Nick: "x", WithKey: true})
	if len(res[0].Trust)+len(res[1].Keys)+len(res[2].Certs) != 0 || res[3].Found {
		t.Errorf("a new database: got %+v, want nothing in it", res)
	}
}
