package outlook

import (
	"encoding/binary"
	"errors"
	"strings"
	"unicode/utf16"

	"github.com/endymail/endymail/clients/windows/winreg"
)

// accountsKey is the MAPI section below a profile that holds one subkey
// (00000001, 00000002, …) per mail account. Scripts that read it disagree
// on the value types because Outlook changed them between versions: the
// account's address is in "Email" (Outlook 2013 and later, POP/IMAP; for
// Exchange "Account Name" holds the primary SMTP address) or
// "SMTP Email Address" (older versions), as REG_SZ or as REG_BINARY holding
// NUL-terminated UTF-16LE. endymail reads all of them and writes none.
const accountsKey = "9375CFF0413111d3B88A00104B2A6676"

var addressValues = []string{"Email", "SMTP Email Address", "Account Name"}

// Addresses returns the mail addresses of the accounts in profile p, in
// account order, without duplicates (compared without regard to case).
func Addresses(reg winreg.Registry, p Profile) ([]string, error) {
	root := p.Key + `\` + accountsKey
	subs, err := reg.SubKeys(root)
	if errors.Is(err, winreg.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for _, s := range subs {
		addr, err := accountAddress(reg, root+`\`+s)
		if err != nil {
			return nil, err
		}
		if addr != "" && !seen[strings.ToLower(addr)] {
			seen[strings.ToLower(addr)] = true
			out = append(out, addr)
		}
	}
	return out, nil
}

func accountAddress(reg winreg.Registry, key string) (string, error) {
	for _, name := range addressValues {
		v, err := reg.Get(key, name)
		if errors.Is(err, winreg.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		s := strings.TrimSpace(valueText(v))
		if strings.Count(s, "@") == 1 && !strings.ContainsAny(s, " <>") {
			return s, nil
		}
	}
	return "", nil
}

// valueText reads a REG_SZ, or a REG_BINARY holding UTF-16LE text.
func valueText(v winreg.Value) string {
	switch v.Kind {
	case winreg.String, winreg.ExpandString:
		return v.Str
	case winreg.Binary:
		u := make([]uint16, len(v.Bin)/2)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(v.Bin[2*i:])
		}
		s := string(utf16.Decode(u))
		if i := strings.IndexByte(s, 0); i >= 0 {
			s = s[:i]
		}
		return s
	}
	return ""
}
