package udf

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

type fingerprintVector struct {
	hash        Hash
	contentType string
	data        []byte
	bits        int
	want        string
}

func loadFingerprintVectors(t testing.TB) []fingerprintVector {
	t.Helper()
	f, err := os.Open("testdata/fingerprints.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []fingerprintVector
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Split(text, " | ")
		if len(fields) != 5 {
			t.Fatalf("fingerprints.txt:%d: %d fields, want 5", line, len(fields))
		}
		v := fingerprintVector{hash: SHA2, contentType: fields[1], want: fields[4]}
		if fields[0] == "sha3" {
			v.hash = SHA3
		}
		data, err := strconv.Unquote(fields[2])
		if err != nil {
			t.Fatalf("fingerprints.txt:%d: data: %v", line, err)
		}
		v.data = []byte(data)
		if v.bits, err = strconv.Atoi(fields[3]); err != nil {
			t.Fatalf("fingerprints.txt:%d: bits: %v", line, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no vectors in fingerprints.txt")
	}
	return out
}

func TestFingerprintVectors(t *testing.T) {
	for _, v := range loadFingerprintVectors(t) {
		f := Digest(v.hash, v.contentType, v.data)
		if got := f.Format(v.bits); got != v.want {
			t.Errorf("Digest(%v, %q, %q).Format(%d) = %s, want %s", v.hash, v.contentType, v.data, v.bits, got, v.want)
		}
		if got := f.Hash(); got != v.hash {
			t.Errorf("Digest(%v, %q, %q).Hash() = %v", v.hash, v.contentType, v.data, got)
		}
		if !f.Matches(v.want) {
			t.Errorf("fingerprint of %q does not match its own presentation %s", v.data, v.want)
		}
		p, err := Parse(v.want)
		if err != nil {
			t.Fatalf("Parse(%s): %v", v.want, err)
		}
		if got := p.Format(v.bits); got != v.want {
			t.Errorf("Parse(%s).Format(%d) = %s", v.want, v.bits, got)
		}
		if p.Compression() != f.Compression() || p.Hash() != f.Hash() {
			t.Errorf("Parse(%s): hash %v compression %d, want %v %d", v.want, p.Hash(), p.Compression(), f.Hash(), f.Compression())
		}
	}
}

func TestCompressedVectors(t *testing.T) {
	for _, tc := range []struct {
		hash Hash
		data string
	}{{SHA2, "1473097"}, {SHA3, "1350323"}} {
		f := Digest(tc.hash, "text/plain", []byte(tc.data))
		if got := f.Compression(); got != 1 {
			t.Errorf("Digest(%v, %q).Compression() = %d, want 1", tc.hash, tc.data, got)
		}
	}
	if got := SHA512("text/plain", []byte("UDF Data Value")).Compression(); got != 0 {
		t.Errorf("uncompressed vector: Compression() = %d, want 0", got)
	}
}

func TestCompressionLevels(t *testing.T) {
	for _, tc := range []struct{ zeros, want int }{
		{0, 0}, {19, 0}, {20, 1}, {29, 1}, {30, 2}, {39, 2}, {40, 3}, {49, 3}, {50, 4}, {512, 4},
	} {
		d := make([]byte, 64)
		for i := range d {
			d[i] = 0xff
		}
		for i := 0; i < tc.zeros; i++ { // clear the last tc.zeros bits
			d[63-i/8] &^= 1 << (i % 8)
		}
		if got := compression(d); got != tc.want {
			t.Errorf("compression with %d trailing zero bits = %d, want %d", tc.zeros, got, tc.want)
		}
	}
}

func TestStringAndFormat(t *testing.T) {
	f := SHA512("text/plain", []byte("UDF Data Value"))
	if got, want := f.String(), "MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF"; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	if got, want := f.Format(0), "MDDK-7N6A-727A-JZNO-STRX"; got != want {
		t.Errorf("Format(0) = %s, want the %d-bit form %s", got, MinBits, want)
	}
	if got := f.Format(10000); len(strings.ReplaceAll(got, "-", "")) != MaxBits/5 {
		t.Errorf("Format(10000) = %s, want %d characters", got, MaxBits/5)
	}
	if got := f.Format(141); got != "MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF-X" {
		t.Errorf("Format(141) = %s, want 29 characters", got)
	}
	if got := (Fingerprint{}).String(); got != "" {
		t.Errorf("zero Fingerprint String() = %q, want empty", got)
	}
	p, err := Parse("MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Format(260); got != "MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF" {
		t.Errorf("parsed 140-bit fingerprint Format(260) = %s, want the 140 bits it holds", got)
	}
}

func TestParseForms(t *testing.T) {
	want := SHA512("text/plain", []byte("UDF Data Value")).Format(DefaultBits)
	w, err := Parse(want)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"mddk-7n6a-727a-jzno-strx-xks7-djaf",
		"MDDK7N6A727AJZNOSTRXXKS7DJAF",
		"mDdK7n6A-727AJZNO--STRX-XKS7DJAF-",
	} {
		f, err := Parse(s)
		if err != nil {
			t.Errorf("Parse(%q): %v", s, err)
			continue
		}
		if !f.Equal(w) || f != w {
			t.Errorf("Parse(%q) = %s, want %s", s, f, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	good := SHA512("text/plain", []byte("UDF Data Value")).Format(MaxBits)
	for _, tc := range []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrMalformed},
		{"19 characters", good[:23], ErrMalformed},
		{"105 characters", good + "A", ErrMalformed},
		{"digit 1", "MDDK-7N61-727A-JZNO-STRX-XKS7-DJAF", ErrMalformed},
		{"digit 0", "MDDK-7N6A-727A-JZN0-STRX-XKS7-DJAF", ErrMalformed},
		{"padding", "MDDK-7N6A-727A-JZNO-STRX-XKS7-DJA=", ErrMalformed},
		{"space", "MDDK 7N6A-727A-JZNO-STRX-XKS7-DJAF", ErrMalformed},
		{"non-ASCII", "MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAÉ", ErrMalformed},
		{"version 0", "AAAA-AAAA-AAAA-AAAA-AAAA", ErrVersion},
		{"share", "SAQE-GNTI-G5Y2-ONPD-ZWTY-HK5L-7AEE-A", ErrVersion},
		{"version 101", encode(append([]byte{101}, make([]byte, 20)...), 28), ErrVersion},
		{"version 85", encode(append([]byte{85}, make([]byte, 20)...), 28), ErrVersion},
	} {
		_, err := Parse(tc.in)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Parse(%q) error = %v, want %v", tc.name, tc.in, err, tc.want)
		}
	}
	for _, v := range []byte{80, 84, 96, 100} {
		if _, err := Parse(encode(append([]byte{v}, make([]byte, 20)...), 28)); err != nil {
			t.Errorf("version %d: %v", v, err)
		}
	}
}

func TestMatches(t *testing.T) {
	f := SHA512("text/plain", []byte("UDF Data Value"))
	g := SHA512("text/plain", []byte("UDF Data Value."))
	full := f.Format(MaxBits)
	for _, tc := range []struct {
		name, text string
		want       bool
	}{
		{"100 bits", f.Format(100), true},
		{"140 bits", f.String(), true},
		{"full", full, true},
		{"lower case no dashes", strings.ToLower(strings.ReplaceAll(f.Format(200), "-", "")), true},
		{"95 bits", full[:23], false},
		{"last character changed", "MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAG", false},
		{"first data character changed", "MDDL-7N6A-727A-JZNO-STRX-XKS7-DJAF", false},
		{"other data", g.String(), false},
		{"SHA3 of same data", Digest(SHA3, "text/plain", []byte("UDF Data Value")).String(), false},
		{"other content type", SHA512("text/html", []byte("UDF Data Value")).String(), false},
		{"garbage", "not a fingerprint", false},
	} {
		if got := f.Matches(tc.text); got != tc.want {
			t.Errorf("%s: Matches(%q) = %v, want %v", tc.name, tc.text, got, tc.want)
		}
	}
	p, err := Parse(f.String())
	if err != nil {
		t.Fatal(err)
	}
	if p.Matches(f.Format(260)) {
		t.Error("a 140-bit fingerprint matched a 260-bit presentation it cannot check")
	}
	if !p.Matches(f.Format(100)) {
		t.Error("a 140-bit fingerprint did not match its own 100-bit prefix")
	}
}

func TestEqual(t *testing.T) {
	a := SHA512("text/plain", []byte("x"))
	b := SHA512("text/plain", []byte("x"))
	c := SHA512("text/plain", []byte("y"))
	if !a.Equal(b) || a != b {
		t.Error("equal fingerprints compare unequal")
	}
	if a.Equal(c) {
		t.Error("different fingerprints compare equal")
	}
	short, err := Parse(a.String())
	if err != nil {
		t.Fatal(err)
	}
	if short.Equal(a) {
		t.Error("a 140-bit prefix compares Equal to the full fingerprint; Equal must compare length too")
	}
}

func TestKey(t *testing.T) {
	pub := []byte("public key bytes")
	if Key(PKIXKey, pub) != SHA512(PKIXKey, pub) {
		t.Error("Key is not the SHA-512 fingerprint of the key encoding")
	}
	if Key(PKIXKey, pub) == Key(OctetStream, pub) {
		t.Error("the content type does not change a Key fingerprint")
	}
	if got := Key(PKIXKey, pub).String()[0]; got != 'M' {
		t.Errorf("Key fingerprint starts with %c, want M", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, v := range loadFingerprintVectors(f) {
		f.Add(v.want)
		f.Add(strings.ToLower(strings.ReplaceAll(v.want, "-", "")))
	}
	f.Add("")
	f.Add("MDDK-7N6A-727A-JZNO-STRX")
	f.Fuzz(func(t *testing.T, s string) {
		fp, err := Parse(s)
		if err != nil {
			return
		}
		out := fp.Format(fp.Bits())
		if got, want := strings.ReplaceAll(out, "-", ""), strings.ToUpper(strings.ReplaceAll(s, "-", "")); got != want {
			t.Fatalf("Parse(%q).Format(%d) = %q, not the input", s, fp.Bits(), out)
		}
		again, err := Parse(out)
		if err != nil || again != fp {
			t.Fatalf("Parse(%q) = %v, %v; want the fingerprint %q parsed from", out, again, err, s)
		}
		if !fp.Matches(s) {
			t.Fatalf("Parse(%q) does not match its own input", s)
		}
	})
}

func TestDigestReader(t *testing.T) {
	for _, v := range loadFingerprintVectors(t) {
		got, err := DigestReader(v.hash, v.contentType, bytes.NewReader(v.data))
		if err != nil {
			t.Fatal(err)
		}
		if want := Digest(v.hash, v.contentType, v.data); got != want {
			t.Errorf("DigestReader(%q) = %s, want %s", v.data, got, want)
		}
	}
	errRead := errors.New("read failed")
	if _, err := DigestReader(SHA2, OctetStream, iotest.ErrReader(errRead)); !errors.Is(err, errRead) {
		t.Errorf("DigestReader of a failing reader: error = %v, want %v", err, errRead)
	}
}
