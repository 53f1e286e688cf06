package gnupg

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/endymail/endymail/clients"
)

// statusLine is one "[GNUPG:] KEYWORD ARGS" line of --status-fd output
// (gnupg doc/DETAILS, "Format of the --status-fd output").
type statusLine struct {
	Keyword string
	Args    []string
}

const statusPrefix = "[GNUPG:] "

// parseStatus returns the status lines of out; other lines are skipped.
func parseStatus(out []byte) []statusLine {
	var lines []statusLine
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), statusPrefix)
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		lines = append(lines, statusLine{Keyword: f[0], Args: f[1:]})
	}
	return lines
}

// key is one key of a --with-colons listing (gnupg doc/DETAILS, "Format of
// the colon listings").
type key struct {
	Fingerprint string
	// Secret is set for "sec" records; SecretUsable when the primary
	// and every subkey have their secret part in the agent (field 15 "+"
	// or a card serial number, not "#" or empty).
	Secret       bool
	SecretUsable bool
	UserIDs      []string
}

// parseColons reads the keys of a --with-colons listing. Records it does
// not need (tru, sig, grp, uat, …) are skipped; a fingerprint belongs to
// the key or subkey record just before it.
func parseColons(out []byte) []key {
	var keys []key
	var cur *key
	wantFpr := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		field := func(i int) string {
			if i < len(f) {
				return f[i]
			}
			return ""
		}
		switch f[0] {
		case "pub", "sec":
			keys = append(keys, key{Secret: f[0] == "sec"})
			cur = &keys[len(keys)-1]
			cur.SecretUsable = cur.Secret && secretAvailable(field(14))
			wantFpr = true
		case "sub", "ssb":
			if cur != nil && f[0] == "ssb" && !secretAvailable(field(14)) {
				cur.SecretUsable = false
			}
			wantFpr = false
		case "fpr":
			if cur != nil && wantFpr {
				cur.Fingerprint = strings.ToUpper(field(9))
			}
			wantFpr = false
		case "uid":
			if cur != nil {
				cur.UserIDs = append(cur.UserIDs, unescapeColon(field(9)))
			}
		}
	}
	return keys
}

func secretAvailable(token string) bool { return token != "" && token != "#" }

// unescapeColon undoes the \xHH escapes of a colon-listing field.
func unescapeColon(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if v, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// uidAddress returns the mail address of a user ID: the part in angle
// brackets of "Name <addr>", or the whole user ID when it is a bare
// address; "" when there is none.
func uidAddress(uid string) string {
	if i := strings.LastIndexByte(uid, '<'); i >= 0 {
		if j := strings.IndexByte(uid[i:], '>'); j > 0 {
			return strings.TrimSpace(uid[i+1 : i+j])
		}
		return ""
	}
	uid = strings.TrimSpace(uid)
	if strings.Contains(uid, "@") && !strings.ContainsAny(uid, " \t") {
		return uid
	}
	return ""
}

// uidName returns the name part of "Name <addr>".
func uidName(uid string) string {
	if i := strings.LastIndexByte(uid, '<'); i >= 0 {
		return strings.TrimSpace(uid[:i])
	}
	return ""
}

// parseOwnertrust reads --export-ownertrust output: "FPR:VALUE:" lines and
// "#" comments. Its errors wrap [clients.ErrCorrupt].
func parseOwnertrust(out []byte) (map[string]int, error) {
	trust := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < 2 || !isHex(f[0]) {
			return nil, fmt.Errorf("ownertrust line %q: %w", line, clients.ErrCorrupt)
		}
		v, err := strconv.Atoi(f[1])
		if err != nil || v < 0 || v > 255 {
			return nil, fmt.Errorf("ownertrust line %q: %w", line, clients.ErrCorrupt)
		}
		trust[strings.ToUpper(f[0])] = v
	}
	return trust, nil
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// find returns the key with fingerprint fpr, or nil.
func find(keys []key, fpr string) *key {
	for i := range keys {
		if keys[i].Fingerprint == fpr {
			return &keys[i]
		}
	}
	return nil
}
