// Package runkey starts a program when the user logs in to Windows, through
// the per-user Run key HKCU\Software\Microsoft\Windows\CurrentVersion\Run
// (never a machine-wide service). It is how `endymail agent install`
// starts the agent on Windows.
//
// Build the command line with [Command] (it quotes the program path, so a
// path with spaces cannot be hijacked by C:\Program.exe), then [Set] it
// under a value name; [Remove] undoes it. The functions work on any
// [winreg.Registry], so the logic is tested off Windows too.
package runkey

import (
	"errors"
	"fmt"
	"strings"

	"github.com/endymail/endymail/clients/windows/winreg"
)

// Path is the Run key, relative to HKEY_CURRENT_USER.
const Path = `Software\Microsoft\Windows\CurrentVersion\Run`

// ErrBadProgram reports a program path that is not an absolute Windows
// path or contains a quote.
var ErrBadProgram = errors.New("run key program must be an absolute windows path without quotes")

// Command returns the command line that runs exe with args: exe always in
// double quotes, each argument quoted as CommandLineToArgvW expects.
func Command(exe string, args ...string) (string, error) {
	if !isAbsWindows(exe) || strings.ContainsAny(exe, "\"\x00") {
		return "", fmt.Errorf("%w: %q", ErrBadProgram, exe)
	}
	var b strings.Builder
	b.WriteString(`"` + exe + `"`)
	for _, a := range args {
		if strings.ContainsRune(a, 0) {
			return "", fmt.Errorf("run key argument %q contains NUL", a)
		}
		b.WriteByte(' ')
		b.WriteString(quoteArg(a))
	}
	return b.String(), nil
}

// Set makes the user's login run command under the value name.
func Set(reg winreg.Registry, name, command string) error {
	if name == "" || command == "" {
		return errors.New("run key: empty value name or command")
	}
	if err := reg.Set(Path, name, winreg.StringValue(command)); err != nil {
		return fmt.Errorf("run key: %w", err)
	}
	return nil
}

// Get returns the command registered under name; ok is false when there is
// none.
func Get(reg winreg.Registry, name string) (command string, ok bool, err error) {
	v, err := reg.Get(Path, name)
	if errors.Is(err, winreg.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("run key: %w", err)
	}
	if v.Kind != winreg.String && v.Kind != winreg.ExpandString {
		return "", false, fmt.Errorf("run key: value %q is %v, want a string", name, v.Kind)
	}
	return v.Str, true, nil
}

// Remove deletes the value name; removing a missing value succeeds.
func Remove(reg winreg.Registry, name string) error {
	if err := reg.Delete(Path, name); err != nil {
		return fmt.Errorf("run key: %w", err)
	}
	return nil
}

func isAbsWindows(p string) bool {
	drive := len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') &&
		('a' <= p[0]|0x20 && p[0]|0x20 <= 'z')
	return drive || strings.HasPrefix(p, `\\`)
}

// quoteArg quotes one argument by the rules CommandLineToArgvW and the
// Microsoft C runtime use to split a command line.
func quoteArg(s string) string {
	if s == "" {
		return `""`
	}
	if !strings.ContainsAny(s, " \t\n\v\"") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			slashes++
			continue
		case '"':
			b.WriteString(strings.Repeat(`\`, 2*slashes+1))
		default:
			b.WriteString(strings.Repeat(`\`, slashes))
		}
		b.WriteByte(c)
		slashes = 0
	}
	b.WriteString(strings.Repeat(`\`, 2*slashes))
	b.WriteByte('"')
	return b.String()
}
