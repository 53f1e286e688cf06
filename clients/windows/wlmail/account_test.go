package wlmail

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

const (
	donFile = "testdata/account{donhallimap}.oeaccount"
	zoeFile = "testdata/account{3F2504E0-4F89-11D3-9A0C-0305E82C3301}.oeaccount"
	thumbA  = "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// utf16le encodes s the way account files are stored.
func utf16le(s string) []byte {
	b := []byte{0xff, 0xfe}
	for _, c := range utf16.Encode([]rune(s)) {
		b = append(b, byte(c), byte(c>>8))
	}
	return b
}

func TestParseFixtures(t *testing.T) {
	for _, tc := range []struct{ file, addr, display string }{
		{donFile, "don@wingtiptoys.com", "Don Hall"},
		{zoeFile, "Zoe@Example.org", "Zoë Ünal & co"},
	} {
		b := readFixture(t, tc.file)
		a, err := Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if got := a.Address(); got != tc.addr {
			t.Errorf("%s: Address got %q, want %q", tc.file, got, tc.addr)
		}
		if got, _ := a.Value("SMTP_Display_Name"); got != tc.display {
			t.Errorf("%s: SMTP_Display_Name got %q, want %q", tc.file, got, tc.display)
		}
		if !bytes.Equal(a.Bytes(), b) {
			t.Errorf("%s: Bytes of an unchanged account differ from the file", tc.file)
		}
	}
}

func TestSetBinaryInsertThenRemove(t *testing.T) {
	orig := readFixture(t, donFile)
	a, err := Parse(orig)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetBinary(SigningElement, thumbA); err != nil {
		t.Fatal(err)
	}
	a2, err := Parse(a.Bytes())
	if err != nil {
		t.Fatalf("re-parse after insert: %v", err)
	}
	if got, _ := a2.Value(SigningElement); got != thumbA {
		t.Errorf("%s: got %q, want %q", SigningElement, got, thumbA)
	}
	last := "<SMTP_Prompt_for_Password type=\"DWORD\">0</SMTP_Prompt_for_Password>"
	want := strings.Replace(string(mustDecode(t, orig)), last,
		last+"\r\n    <SMTP_Certificate type=\"BINARY\">"+thumbA+"</SMTP_Certificate>", 1)
	if got := string(mustDecode(t, a.Bytes())); got != want {
		t.Errorf("after insert got\n%s\nwant\n%s", got, want)
	}
	if err := a2.Remove(SigningElement); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a2.Bytes(), orig) {
		t.Errorf("insert then remove did not give back the original bytes")
	}
}

func TestSetBinaryReplacesOnlyThatElement(t *testing.T) {
	orig := readFixture(t, zoeFile)
	a, err := Parse(orig)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetBinary(EncryptionElement, thumbA); err != nil {
		t.Fatal(err)
	}
	oldEl := `<SMTP_Encryption_Certificate type="BINARY">0123456789abcdef0123456789abcdef01234567</SMTP_Encryption_Certificate>`
	newEl := `<SMTP_Encryption_Certificate type="BINARY">` + thumbA + `</SMTP_Encryption_Certificate>`
	want := strings.Replace(mustDecode(t, orig), oldEl, newEl, 1)
	if got := mustDecode(t, a.Bytes()); got != want {
		t.Errorf("after replace got\n%s\nwant\n%s", got, want)
	}
	if got, _ := a.Value(SigningElement); got != "0123456789abcdef0123456789abcdef01234567" {
		t.Errorf("signing certificate changed to %q", got)
	}
}

func mustDecode(t testing.TB, b []byte) string {
	t.Helper()
	s, err := decodeUTF16(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseRejects(t *testing.T) {
	good := mustDecode(t, readFixture(t, donFile))
	for name, b := range map[string][]byte{
		"empty":              nil,
		"utf-8":              []byte(good),
		"odd length":         append(utf16le(good), 0),
		"big endian bom":     append([]byte{0xfe, 0xff}, utf16le(good)[2:]...),
		"unpaired surrogate": append(utf16le("<MessageAccount>"), 0x00, 0xd8, '<', 0, '/', 0),
		"wrong root":         utf16le(`<?xml version="1.0" encoding="utf-16"?><Account><A>1</A></Account>`),
		"two roots":          utf16le(`<MessageAccount></MessageAccount><MessageAccount></MessageAccount>`),
		"truncated":          utf16le(good[:len(good)/2]),
		"mismatched tags":    utf16le(`<MessageAccount><A>1</B></MessageAccount>`),
		"self-closing root":  utf16le(`<MessageAccount/>`),
		"other encoding":     utf16le(`<?xml version="1.0" encoding="iso-8859-1"?><MessageAccount/>`),
	} {
		if _, err := Parse(b); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: got %v, want ErrFormat", name, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(readFixture(f, donFile))
	f.Add(readFixture(f, zoeFile))
	f.Add(utf16le(`<MessageAccount/>`))
	f.Add(utf16le(`<MessageAccount><A/></MessageAccount>`))
	f.Add(utf16le("<MessageAccount>\n\t<X type=\"SZ\"><![CDATA[a]]></X><!-- c --></MessageAccount>\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Parse(b)
		if err != nil {
			return
		}
		if !bytes.Equal(a.Bytes(), b) {
			t.Fatalf("round trip changed the bytes")
		}
		_, had := a.Value(SigningElement)
		if err := a.SetBinary(SigningElement, thumbA); err != nil {
			t.Fatalf("SetBinary on a parsed account: %v", err)
		}
		a2, err := Parse(a.Bytes())
		if err != nil {
			t.Fatalf("re-parse after SetBinary: %v", err)
		}
		if got, _ := a2.Value(SigningElement); got != thumbA {
			t.Fatalf("after SetBinary got %q, want %q", got, thumbA)
		}
		if !had {
			if err := a2.Remove(SigningElement); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a2.Bytes(), b) {
				t.Fatalf("insert then remove changed the bytes")
			}
		}
	})
}

func copyStore(t *testing.T) (root, don, zoe string) {
	t.Helper()
	root = t.TempDir()
	don = filepath.Join(root, "donhallimap", filepath.Base(donFile))
	zoe = filepath.Join(root, "Local Folders", filepath.Base(zoeFile))
	for src, dst := range map[string]string{donFile: don, zoeFile: zoe} {
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, readFixture(t, src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root, don, zoe
}
