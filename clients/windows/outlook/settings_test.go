package outlook

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"github.com/endymail/endymail/internal/fixture"
	"reflect"
	"testing"

	"github.com/endymail/endymail/clients/windows/certstore"
)

const (
	fixtureSign = "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"
	fixtureEnc  = "00112233445566778899aabbccddeeff00112233"
)

var oid3DES = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}

// readHex reads a hex fixture (see fixture.Hex).
func readHex(t testing.TB, name string) []byte { return fixture.Hex(t, name) }

func mustThumb(t testing.TB, s string) certstore.Thumbprint {
	t.Helper()
	tp, err := certstore.ParseThumbprint(s)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func TestDecodeFixtures(t *testing.T) {
	for file, layout := range map[string]Layout{
		"testdata/activatesignatures-x64.hex": Layout64,
		"testdata/activatesignatures-x86.hex": Layout32,
	} {
		b := readHex(t, file)
		ss, err := DecodeSettings(b)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if ss.Layout != layout || len(ss.Settings) != 1 {
			t.Fatalf("%s: got layout %d with %d settings, want %d with 1", file, ss.Layout, len(ss.Settings), layout)
		}
		st := ss.Settings[0]
		if got := st.Name(); got != "Outlook Signature Settings" {
			t.Errorf("%s: Name got %q", file, got)
		}
		if got, ok := st.SigningCert(); !ok || got != mustThumb(t, fixtureSign) {
			t.Errorf("%s: SigningCert got %s %v", file, got, ok)
		}
		if got, ok := st.EncryptionCert(); !ok || got != mustThumb(t, fixtureEnc) {
			t.Errorf("%s: EncryptionCert got %s %v", file, got, ok)
		}
		if got := st.Flags(); got != DefaultForFormat|DefaultForAll|SendCertificates {
			t.Errorf("%s: Flags got %b, want 111", file, got)
		}
		algs, err := st.Algorithms()
		want := []asn1.ObjectIdentifier{OIDAES256, OIDAES192, oid3DES, OIDAES128, OIDSHA256, OIDSHA512, OIDSHA384}
		if err != nil || !reflect.DeepEqual(algs, want) {
			t.Errorf("%s: Algorithms got %v %v, want %v", file, algs, err, want)
		}
		enc, err := ss.Encode()
		if err != nil || !bytes.Equal(enc, b) {
			t.Errorf("%s: Encode does not give back the value (%v)", file, err)
		}
	}
}

// TestEncodeMatchesSource builds the fixture's setting with this package and
// checks it is byte for byte what the source script writes.
func TestEncodeMatchesSource(t *testing.T) {
	want := readHex(t, "testdata/activatesignatures-x64.hex")
	st, err := NewSetting("Outlook Signature Settings", mustThumb(t, fixtureSign), mustThumb(t, fixtureEnc))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetAlgorithms([]asn1.ObjectIdentifier{OIDAES256, OIDAES192, oid3DES, OIDAES128, OIDSHA256, OIDSHA512, OIDSHA384}); err != nil {
		t.Fatal(err)
	}
	ss := &SecuritySettings{Layout: Layout64, Settings: []*Setting{st}, Padding: 11}
	got, err := ss.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Encode:\ngot  %x\nwant %x", got, want)
	}
}

func TestDecodeRejects(t *testing.T) {
	good := readHex(t, "testdata/activatesignatures-x64.hex")
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for name, b := range map[string][]byte{
		"empty":            nil,
		"zero settings":    {0, 0, 0, 0},
		"huge count":       {0xff, 0xff, 0xff, 0xff},
		"truncated":        good[:100],
		"trailing data":    mod(func(b []byte) []byte { b[len(b)-1] = 1; return b }),
		"bad offset":       mod(func(b []byte) []byte { b[12] = 0x18; return b }),
		"table padding":    mod(func(b []byte) []byte { b[9] = 1; return b }),
		"short record":     mod(func(b []byte) []byte { b[22] = 2; return b }),
		"record too long":  mod(func(b []byte) []byte { b[22], b[23] = 0xff, 0xff; return b }),
		"size beyond data": mod(func(b []byte) []byte { b[5] = 0x10; return b }),
	} {
		if _, err := DecodeSettings(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}

func FuzzDecodeSettings(f *testing.F) {
	f.Add(readHex(f, "testdata/activatesignatures-x64.hex"))
	f.Add(readHex(f, "testdata/activatesignatures-x86.hex"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ss, err := DecodeSettings(b)
		if err != nil {
			return
		}
		enc, err := ss.Encode()
		if err != nil {
			t.Fatalf("Encode of a decoded value: %v", err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("round trip changed the bytes")
		}
		for _, st := range ss.Settings {
			st.Name()
			st.Flags()
			st.Algorithms()
		}
	})
}
