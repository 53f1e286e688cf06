package outlook

import (
	"encoding/binary"
	"reflect"
	"testing"
	"unicode/utf16"

	"github.com/endymail/endymail/clients/windows/winreg"
)

func utf16z(s string) []byte {
	var b []byte
	for _, c := range utf16.Encode([]rune(s + "\x00")) {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return b
}

func TestAddresses(t *testing.T) {
	reg := winreg.NewMemory()
	p := Profile{Key: profileKey, Name: "Outlook", Version: "16.0"}
	base := profileKey + `\` + accountsKey
	set := func(sub, name string, v winreg.Value) {
		if err := reg.Set(base+`\`+sub, name, v); err != nil {
			t.Fatal(err)
		}
	}
	set("00000001", "Account Name", winreg.BinaryValue(utf16z("Outlook Data File"))) // a store, not mail
	set("00000002", "Email", winreg.BinaryValue(utf16z("zoë@example.org")))
	set("00000002", "Account Name", winreg.BinaryValue(utf16z("Private mail")))
	set("00000003", "Account Name", winreg.StringValue("Alice@Corp.example"))
	set("00000004", "SMTP Email Address", winreg.BinaryValue(utf16z("alice@corp.example")))
	got, err := Addresses(reg, p)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"zoë@example.org", "Alice@Corp.example"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Addresses: got %q, want %q", got, want)
	}
	if got, err := Addresses(winreg.NewMemory(), p); err != nil || got != nil {
		t.Errorf("Addresses of a profile without accounts: got %q, %v", got, err)
	}
}
