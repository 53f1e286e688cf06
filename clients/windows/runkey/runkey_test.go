package runkey

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/endymail/endymail/clients/windows/winreg"
)

// splitArgs splits the arguments after the program the way the Microsoft C
// runtime does (documented in "Parsing C++ command-line arguments"), for
// checking Command's quoting.
func splitArgs(s string) []string {
	var args []string
	var cur strings.Builder
	inArg, inQuote := false, false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			n := 0
			for i < len(s) && s[i] == '\\' {
				n++
				i++
			}
			if i < len(s) && s[i] == '"' {
				cur.WriteString(strings.Repeat(`\`, n/2))
				if n%2 == 1 {
					cur.WriteByte('"')
					i++
				}
			} else {
				cur.WriteString(strings.Repeat(`\`, n))
			}
			inArg = true
			continue
		case c == '"':
			inQuote = !inQuote
			inArg = true
		case (c == ' ' || c == '\t') && !inQuote:
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteByte(c)
			inArg = true
		}
		i++
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args
}

func commandArgs(t testing.TB, cmd, exe string) []string {
	t.Helper()
	rest, ok := strings.CutPrefix(cmd, `"`+exe+`"`)
	if !ok {
		t.Fatalf("command %q does not start with the quoted program", cmd)
	}
	return splitArgs(rest)
}

func TestCommandQuoting(t *testing.T) {
	const exe = `C:\Program Files\endymail\endymail.exe`
	args := []string{"agent", "run", "", "two words", `C:\dir\`, `C:\dir with space\`, `say "hi"`, `a\\"b`, "tab\there"}
	cmd, err := Command(exe, args...)
	if err != nil {
		t.Fatal(err)
	}
	if got := commandArgs(t, cmd, exe); !reflect.DeepEqual(got, args) {
		t.Errorf("round trip of %q: got %q, want %q", cmd, got, args)
	}
	if want := `"C:\Program Files\endymail\endymail.exe" agent run`; !strings.HasPrefix(cmd, want) {
		t.Errorf("Command: got %q, want prefix %q", cmd, want)
	}
}

func TestCommandRejects(t *testing.T) {
	for _, exe := range []string{"endymail.exe", `relative\endymail.exe`, `C:\a"b.exe`, "/usr/bin/endymail", ""} {
		if _, err := Command(exe); !errors.Is(err, ErrBadProgram) {
			t.Errorf("Command(%q): got %v, want ErrBadProgram", exe, err)
		}
	}
	if _, err := Command(`\\server\share\e.exe`, "x"); err != nil {
		t.Errorf("Command with UNC path: %v", err)
	}
}

func TestSetGetRemove(t *testing.T) {
	reg := winreg.NewMemory()
	if _, ok, err := Get(reg, "endymail"); ok || err != nil {
		t.Fatalf("Get before Set: got ok=%v err=%v, want false, nil", ok, err)
	}
	cmd, _ := Command(`C:\e\endymail.exe`, "agent", "run")
	if err := Set(reg, "endymail", cmd); err != nil {
		t.Fatal(err)
	}
	got, ok, err := Get(reg, "endymail")
	if err != nil || !ok || got != cmd {
		t.Fatalf("Get: got %q %v %v, want %q", got, ok, err, cmd)
	}
	if err := Remove(reg, "endymail"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := Get(reg, "endymail"); ok {
		t.Errorf("Get after Remove: value still there")
	}
	if err := Remove(reg, "endymail"); err != nil {
		t.Errorf("second Remove: %v", err)
	}
}

func FuzzCommand(f *testing.F) {
	f.Add("agent", `a "b" c`)
	f.Add(`C:\x\`, `\\"`)
	f.Add("", "\t")
	f.Fuzz(func(t *testing.T, a, b string) {
		const exe = `C:\e.exe`
		cmd, err := Command(exe, a, b)
		if err != nil {
			if strings.ContainsRune(a+b, 0) {
				return
			}
			t.Fatal(err)
		}
		// The C runtime splits on spaces and tabs only; other bytes are data.
		if got := commandArgs(t, cmd, exe); !reflect.DeepEqual(got, []string{a, b}) {
			t.Errorf("round trip of %q: got %q, want %q", cmd, got, []string{a, b})
		}
	})
}
