package certstore

import (
	"encoding/json"
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

func TestThumbprintJSON(t *testing.T) {
	tp, _ := ParseThumbprint("00112233445566778899aabbccddeeff00112233")
	b, err := json.Marshal(map[string]Thumbprint{"t": tp})
	if err != nil || string(b) != `{"t":"00112233445566778899AABBCCDDEEFF00112233"}` {
		t.Fatalf("Marshal: got %s, %v", b, err)
	}
	var back map[string]Thumbprint
	if err := json.Unmarshal(b, &back); err != nil || back["t"] != tp {
		t.Errorf("Unmarshal: got %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"t":"xyz"}`), &back); !errors.Is(err, ErrBadThumbprint) {
		t.Errorf("Unmarshal of bad text: got %v, want ErrBadThumbprint", err)
	}
}
