package certstore

import (
	"errors"
	"testing"
)

func TestParseThumbprint(t *testing.T) {
	const want = "00112233445566778899AABBCCDDEEFF00112233"
	for _, in := range []string{
		want,
		"00112233445566778899aabbccddeeff00112233",
		"00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 00 11 22 33",
		"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33",
	} {
		tp, err := ParseThumbprint(in)
		if err != nil {
			t.Errorf("ParseThumbprint(%q): %v", in, err)
			continue
		}
		if got := tp.String(); got != want {
			t.Errorf("ParseThumbprint(%q).String(): got %s, want %s", in, got, want)
		}
	}
	for _, in := range []string{"", "0011", want + "00", "zz112233445566778899AABBCCDDEEFF00112233"} {
		if _, err := ParseThumbprint(in); !errors.Is(err, ErrBadThumbprint) {
			t.Errorf("ParseThumbprint(%q): got %v, want ErrBadThumbprint", in, err)
		}
	}
}
