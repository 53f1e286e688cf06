// Package winreg is the small Windows-registry abstraction the Windows mail
// client configurators are written against, so their logic runs (and is
// tested) on every platform.
//
// Use [CurrentUser] for the real HKEY_CURRENT_USER (Windows only; elsewhere
// it returns errors.ErrUnsupported), [NewMemory] in tests, and wrap either in
// a [Journal] so that every change records the value it replaced and can be
// undone with [Journal.Restore]. Paths are backslash-separated and relative
// to the hive, e.g. `Software\Microsoft\Windows\CurrentVersion\Run`.
package winreg

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// ErrNotExist reports a key or value that is not there.
var ErrNotExist = errors.New("registry key or value does not exist")

// Kind is a registry value type, numbered as in winnt.h.
type Kind uint32

// The value kinds the configurators use.
const (
	String       Kind = 1 // REG_SZ
	ExpandString Kind = 2 // REG_EXPAND_SZ
	Binary       Kind = 3 // REG_BINARY
	DWord        Kind = 4 // REG_DWORD
)

func (k Kind) String() string {
	switch k {
	case String:
		return "REG_SZ"
	case ExpandString:
		return "REG_EXPAND_SZ"
	case Binary:
		return "REG_BINARY"
	case DWord:
		return "REG_DWORD"
	}
	return fmt.Sprintf("kind(%d)", uint32(k))
}

// Value is one typed registry value. Str holds String and ExpandString data,
// Bin holds Binary data, Num holds DWord data.
type Value struct {
	Kind Kind   `json:"kind"`
	Str  string `json:"str,omitempty"`
	Bin  []byte `json:"bin,omitempty"`
	Num  uint32 `json:"num,omitempty"`
}

// StringValue returns a REG_SZ value.
func StringValue(s string) Value { return Value{Kind: String, Str: s} }

// ExpandStringValue returns a REG_EXPAND_SZ value.
func ExpandStringValue(s string) Value { return Value{Kind: ExpandString, Str: s} }

// BinaryValue returns a REG_BINARY value holding a copy of b.
func BinaryValue(b []byte) Value { return Value{Kind: Binary, Bin: bytes.Clone(b)} }

// DWordValue returns a REG_DWORD value.
func DWordValue(n uint32) Value { return Value{Kind: DWord, Num: n} }

// Equal reports whether v and w have the same kind and data.
func (v Value) Equal(w Value) bool {
	return v.Kind == w.Kind && v.Str == w.Str && v.Num == w.Num && bytes.Equal(v.Bin, w.Bin)
}

func (v Value) validate() error {
	switch v.Kind {
	case String, ExpandString:
		if strings.ContainsRune(v.Str, 0) {
			return fmt.Errorf("%v value contains a NUL character", v.Kind)
		}
		return nil
	case Binary, DWord:
		return nil
	}
	return fmt.Errorf("unsupported registry value kind %v", v.Kind)
}

// Registry reads and writes values below one hive.
//
// Get returns an error wrapping [ErrNotExist] when the key or value is
// missing. Set creates missing keys on the path. Delete of a missing value
// succeeds (deleting is idempotent). SubKeys of a missing key returns an
// error wrapping [ErrNotExist]; names come back sorted.
type Registry interface {
	Get(path, name string) (Value, error)
	Set(path, name string, v Value) error
	Delete(path, name string) error
	SubKeys(path string) ([]string, error)
}

// cleanPath normalises a key path: no leading, trailing or doubled
// backslashes. Registry paths are case-insensitive; callers keep case.
func cleanPath(path string) (string, error) {
	parts := strings.Split(path, `\`)
	out := parts[:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return "", fmt.Errorf("empty registry key path %q", path)
	}
	return strings.Join(out, `\`), nil
}
