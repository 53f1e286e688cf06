package gnupg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/endymail/endymail/clients"
)

func readVector(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseColons(t *testing.T) {
	tests := []struct {
		file string
		want []key
	}{
		{"list-secret-keys.txt", []key{
			{Fingerprint: "D029AAF49FE7C010FCAB3B804FC90FF7BF8ACFEF", Secret: true, SecretUsable: true, UserIDs: []string{"Dr. Colon: Test <colon@example.org>"}},
			{Fingerprint: "C7DBBA42F6A89F3C01016E08D0BB3E72F19836A1", Secret: true, SecretUsable: true, UserIDs: []string{"Alice <alice@example.org>"}},
		}},
		{"list-keys.txt", []key{
			{Fingerprint: "D029AAF49FE7C010FCAB3B804FC90FF7BF8ACFEF", UserIDs: []string{"Dr. Colon: Test <colon@example.org>"}},
			{Fingerprint: "C7DBBA42F6A89F3C01016E08D0BB3E72F19836A1", UserIDs: []string{"Alice <alice@example.org>"}},
			{Fingerprint: "1112D471A5DC8A86C7C2D5CB650558D6E062FC15", UserIDs: []string{"Alice <bob@example.org>"}},
		}},
		{"show-keys.txt", []key{
			{Fingerprint: "C7DBBA42F6A89F3C01016E08D0BB3E72F19836A1", Secret: true, UserIDs: []string{"Alice <alice@example.org>"}},
		}},
	}
	for _, tt := range tests {
		if got := parseColons(readVector(t, tt.file)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseColons(%s):\ngot  %+v\nwant %+v", tt.file, got, tt.want)
		}
	}
}

func TestUIDAddress(t *testing.T) {
	tests := []struct{ uid, addr, name string }{
		{"Alice <alice@example.org>", "alice@example.org", "Alice"},
		{"Dr. Colon: Test <colon@example.org>", "colon@example.org", "Dr. Colon: Test"},
		{"bare@example.org", "bare@example.org", ""},
		{"Just A Name", "", ""},
		{"Broken <no-close", "", "Broken"},
		{"Odd <a@b> (comment) <c@d>", "c@d", "Odd <a@b> (comment)"},
	}
	for _, tt := range tests {
		if got := uidAddress(tt.uid); got != tt.addr {
			t.Errorf("uidAddress(%q): got %q, want %q", tt.uid, got, tt.addr)
		}
		if got := uidName(tt.uid); got != tt.name {
			t.Errorf("uidName(%q): got %q, want %q", tt.uid, got, tt.name)
		}
	}
}

func TestParseStatusImport(t *testing.T) {
	lines := parseStatus(readVector(t, "import-status.txt"))
	if len(lines) != 6 || lines[5].Keyword != "IMPORT_RES" {
		t.Fatalf("parseStatus: got %+v, want 6 lines ending in IMPORT_RES", lines)
	}
	if err := importResult(lines, "C7DBBA42F6A89F3C01016E08D0BB3E72F19836A1"); err != nil {
		t.Errorf("importResult for the imported key: got %v, want nil", err)
	}
	if err := importResult(lines, "1112D471A5DC8A86C7C2D5CB650558D6E062FC15"); err == nil {
		t.Errorf("importResult for another key: got nil, want an error")
	}
	problem := append(lines, statusLine{Keyword: "IMPORT_PROBLEM", Args: []string{"1"}})
	if err := importResult(problem, "C7DBBA42F6A89F3C01016E08D0BB3E72F19836A1"); err == nil {
		t.Errorf("importResult with IMPORT_PROBLEM: got nil, want an error")
	}
}

func TestParseOwnertrust(t *testing.T) {
	got, err := parseOwnertrust(readVector(t, "ownertrust.txt"))
	want := map[string]int{"D029AAF49FE7C010FCAB3B804FC90FF7BF8ACFEF": 6, "C7DBBA42F6A89F3C01016E08D0BB3E72F19836A1": 6}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseOwnertrust: got %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"XYZ:6:\n", "C7DB:six:\n", "C7DB\n", "C7DB:300:\n"} {
		if _, err := parseOwnertrust([]byte(bad)); !errors.Is(err, clients.ErrCorrupt) {
			t.Errorf("parseOwnertrust(%q): got %v, want ErrCorrupt", bad, err)
		}
	}
}

func TestCheckKeybox(t *testing.T) {
	good := readVector(t, "pubring.kbx")
	if err := checkKeybox(good); err != nil {
		t.Fatalf("checkKeybox(gpg's pubring.kbx): %v", err)
	}
	if err := checkKeybox(nil); err != nil {
		t.Errorf("checkKeybox(empty): got %v, want nil", err)
	}
	overlong := append([]byte(nil), good...)
	binary.BigEndian.PutUint32(overlong[32:], uint32(len(good)))
	badType := append([]byte(nil), good...)
	badType[32+4] = 9
	noMagic := append([]byte(nil), good...)
	copy(noMagic[8:], "XXXX")
	for name, b := range map[string][]byte{
		"truncated":     good[:100],
		"trailing byte": append(append([]byte(nil), good...), 0),
		"no magic":      noMagic,
		"bad length":    append([]byte("junk"), good[4:]...),
		"overlong blob": overlong,
		"unknown type":  badType,
	} {
		if err := checkKeybox(b); !errors.Is(err, clients.ErrCorrupt) {
			t.Errorf("checkKeybox(%s): got %v, want ErrCorrupt", name, err)
		}
	}
}

func TestParseDotlock(t *testing.T) {
	tests := []struct {
		in   string
		pid  int
		node string
		ok   bool
	}{
		{fmt.Sprintf("%10d\n%s\n", 4242, "host.example"), 4242, "host.example", true},
		{"      4242\n", 4242, "", true},
		{"garbage\n", 0, "", false},
		{"-5\nhost\n", 0, "", false},
	}
	for _, tt := range tests {
		pid, node, ok := parseDotlock([]byte(tt.in))
		if pid != tt.pid || node != tt.node || ok != tt.ok {
			t.Errorf("parseDotlock(%q): got %d, %q, %v; want %d, %q, %v", tt.in, pid, node, ok, tt.pid, tt.node, tt.ok)
		}
	}
}

func FuzzParseColons(f *testing.F) {
	for _, name := range []string{"list-secret-keys.txt", "list-keys.txt", "show-keys.txt"} {
		f.Add(readVector(f, name))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, k := range parseColons(b) {
			for _, uid := range k.UserIDs {
				if a := uidAddress(uid); a != "" && !strings.Contains(uid, a) {
					t.Fatalf("address %q is not in user ID %q", a, uid)
				}
				if n := uidName(uid); !strings.Contains(uid, n) {
					t.Fatalf("name %q is not in user ID %q", n, uid)
				}
			}
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	f.Add(readVector(f, "import-status.txt"))
	f.Fuzz(func(t *testing.T, b []byte) {
		importResult(parseStatus(b), "C7DBBA42F6A89F3C01016E08D0BB3E72F19836A1")
	})
}

func FuzzParseOwnertrust(f *testing.F) {
	f.Add(readVector(f, "ownertrust.txt"))
	f.Fuzz(func(t *testing.T, b []byte) {
		trust, err := parseOwnertrust(b)
		if err != nil && trust != nil {
			t.Errorf("parseOwnertrust: got values %v with error %v", trust, err)
		}
	})
}

func FuzzCheckKeybox(f *testing.F) {
	good := readVector(f, "pubring.kbx")
	f.Add(good)
	f.Add(good[:100])
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := checkKeybox(b); err != nil && !errors.Is(err, clients.ErrCorrupt) {
			t.Errorf("checkKeybox: got %v, want nil or ErrCorrupt", err)
		}
	})
}

func FuzzParseDotlock(f *testing.F) {
	f.Add([]byte(fmt.Sprintf("%10d\n%s\n", 4242, "host")))
	f.Fuzz(func(t *testing.T, b []byte) {
		if pid, _, ok := parseDotlock(b); ok && pid <= 0 {
			t.Errorf("parseDotlock(%q): got pid %d with ok", b, pid)
		}
	})
}
