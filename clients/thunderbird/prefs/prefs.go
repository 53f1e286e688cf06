// Package prefs reads and edits Mozilla prefs files (Thunderbird's
// prefs.js): [Parse] follows the grammar of Mozilla's libpref parser
// exactly but refuses what it would skip, and [File.Edit] changes values in
// place, keeping every other byte, so that an edit can be undone to an
// identical file.
package prefs

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/endymail/endymail/clients"
)

// The prefs.js grammar, as Mozilla's libpref parser
// (modules/libpref/parser/src/lib.rs) accepts it:
//
//	<pref>   = ("user_pref" | "pref" | "sticky_pref" | "lockPref") "(" <string> "," <value> <attrs> ")" ";"
//	<value>  = <string> | "true" | "false" | ("+" | "-")? [0-9]+   (an int32)
//	<attrs>  = ("," ("sticky" | "locked"))*   (not after user_pref)
//	<string> = '…' or "…" with \" \' \\ \n \r \xNN \uNNNN (surrogate pairs joined), no \x00 / \u0000
//
// Comments are //, # (to the end of the line) and /* */. Thunderbird recovers
// from a syntax error by skipping to the next ';'; this parser refuses the
// file instead, so that nothing is written over a file we do not understand.

// ValueType is the type of a pref value.
type ValueType int

// The three pref types.
const (
	StringType ValueType = iota + 1
	IntType
	BoolType
)

// Value is a pref value.
type Value struct {
	Type ValueType
	Str  string
	Int  int32
	Bool bool
}

// StringValue, IntValue and BoolValue make a [Value].
func StringValue(s string) Value { return Value{Type: StringType, Str: s} }

// IntValue makes an integer [Value].
func IntValue(i int32) Value { return Value{Type: IntType, Int: i} }

// BoolValue makes a boolean [Value].
func BoolValue(b bool) Value { return Value{Type: BoolType, Bool: b} }

// Literal is the value as Thunderbird writes it into prefs.js (its
// StrEscape escapes only \ " \n \r).
func (v Value) Literal() string {
	switch v.Type {
	case IntType:
		return strconv.Itoa(int(v.Int))
	case BoolType:
		return strconv.FormatBool(v.Bool)
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v.Str); i++ {
		switch c := v.Str[i]; c {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Pref is one statement of a prefs file, with the byte spans the writer
// needs to change it in place.
type Pref struct {
	Kind       string // user_pref, pref, sticky_pref or lockPref
	Name       string
	Value      Value
	Start, End int // the statement, from its keyword to its ';'
	ValStart   int // the value literal (with any sign)
	ValEnd     int
}

// File is a parsed prefs.js. It keeps the source so that edits change only
// the bytes of the prefs they touch.
type File struct {
	src   []byte
	prefs []Pref
	last  map[string]int // name → index of its last statement (the one that wins)
}

// Parse parses a prefs file. Its errors wrap [clients.ErrCorrupt] and
// name the line.
func Parse(src []byte) (*File, error) {
	p := &prefParser{src: src, line: 1}
	f := &File{src: src, last: map[string]int{}}
	for {
		tok, err := p.next()
		if err != nil {
			return nil, err
		}
		if tok.kind == tokEOF {
			return f, nil
		}
		pr, err := p.statement(tok)
		if err != nil {
			return nil, err
		}
		f.last[pr.Name] = len(f.prefs)
		f.prefs = append(f.prefs, pr)
	}
}

// Get returns the value that wins for name (the last statement).
func (f *File) Get(name string) (Value, bool) {
	i, ok := f.last[name]
	if !ok {
		return Value{}, false
	}
	return f.prefs[i].Value, true
}

// String returns name's value when it is a string, else "".
func (f *File) String(name string) string {
	v, ok := f.Get(name)
	if !ok || v.Type != StringType {
		return ""
	}
	return v.Str
}

// Raw returns the literal text of name's value as it stands in the file.
func (f *File) Raw(name string) (string, bool) {
	i, ok := f.last[name]
	if !ok {
		return "", false
	}
	return string(f.src[f.prefs[i].ValStart:f.prefs[i].ValEnd]), true
}

// Bytes returns the source the file was parsed from.
func (f *File) Bytes() []byte { return f.src }

// All returns every statement in file order.
func (f *File) All() []Pref { return f.prefs }

type tokKind int

const (
	tokEOF tokKind = iota
	tokPunct
	tokWord
	tokString
	tokInt
)

type token struct {
	kind       tokKind
	text       string // punctuation, keyword or decoded string
	n          uint64
	start, end int
}

type prefParser struct {
	src  []byte
	i    int
	line int
}

func (p *prefParser) errorf(format string, args ...any) error {
	return fmt.Errorf("prefs.js line %d: %s: %w", p.line, fmt.Sprintf(format, args...), clients.ErrCorrupt)
}

func (p *prefParser) expect(punct string) error {
	t, err := p.next()
	if err != nil {
		return err
	}
	if t.kind != tokPunct || t.text != punct {
		return p.errorf("expected %q", punct)
	}
	return nil
}

func (p *prefParser) statement(kw token) (Pref, error) {
	if kw.kind != tokWord || !isSpecifier(kw.text) {
		return Pref{}, p.errorf("expected a pref specifier")
	}
	pr := Pref{Kind: kw.text, Start: kw.start}
	if err := p.expect("("); err != nil {
		return pr, err
	}
	name, err := p.next()
	if err != nil {
		return pr, err
	}
	if name.kind != tokString {
		return pr, p.errorf("expected a pref name")
	}
	pr.Name = name.text
	if err := p.expect(","); err != nil {
		return pr, err
	}
	if err := p.value(&pr); err != nil {
		return pr, err
	}
	t, err := p.next()
	for err == nil && t.kind == tokPunct && t.text == "," && pr.Kind != "user_pref" {
		if t, err = p.next(); err == nil && (t.kind != tokWord || t.text != "sticky" && t.text != "locked") {
			return pr, p.errorf("expected a pref attribute")
		}
		if err == nil {
			t, err = p.next()
		}
	}
	if err != nil {
		return pr, err
	}
	if t.kind != tokPunct || t.text != ")" {
		return pr, p.errorf("expected ')' after the value of %q", pr.Name)
	}
	if t, err = p.next(); err != nil {
		return pr, err
	}
	if t.kind != tokPunct || t.text != ";" {
		return pr, p.errorf("expected ';' after pref %q", pr.Name)
	}
	pr.End = t.end
	return pr, nil
}

func isSpecifier(s string) bool {
	return s == "user_pref" || s == "pref" || s == "sticky_pref" || s == "lockPref"
}

func (p *prefParser) value(pr *Pref) error {
	t, err := p.next()
	if err != nil {
		return err
	}
	pr.ValStart = t.start
	neg := false
	if t.kind == tokPunct && (t.text == "-" || t.text == "+") {
		neg = t.text == "-"
		if t, err = p.next(); err != nil {
			return err
		}
		if t.kind != tokInt {
			return p.errorf("expected an integer after the sign")
		}
	}
	pr.ValEnd = t.end
	switch {
	case t.kind == tokString:
		pr.Value = StringValue(t.text)
	case t.kind == tokWord && (t.text == "true" || t.text == "false"):
		pr.Value = BoolValue(t.text == "true")
	case t.kind == tokInt && neg && t.n <= 1<<31:
		pr.Value = IntValue(int32(-int64(t.n)))
	case t.kind == tokInt && !neg && t.n < 1<<31:
		pr.Value = IntValue(int32(t.n))
	case t.kind == tokInt:
		return p.errorf("integer overflows 32 bits")
	default:
		return p.errorf("expected a value for %q", pr.Name)
	}
	return nil
}

// next returns the next token, skipping blanks and comments.
func (p *prefParser) next() (token, error) {
	if err := p.skip(); err != nil {
		return token{}, err
	}
	start := p.i
	if p.i >= len(p.src) {
		return token{kind: tokEOF, start: start, end: start}, nil
	}
	c := p.src[p.i]
	switch {
	case strings.IndexByte("(),;+-", c) >= 0:
		p.i++
		return token{kind: tokPunct, text: string(c), start: start, end: p.i}, nil
	case c == '"' || c == '\'':
		s, err := p.str(c)
		return token{kind: tokString, text: s, start: start, end: p.i}, err
	case isWordByte(c):
		for p.i < len(p.src) && isWordByte(p.src[p.i]) {
			p.i++
		}
		return token{kind: tokWord, text: string(p.src[start:p.i]), start: start, end: p.i}, nil
	case '0' <= c && c <= '9':
		var n uint64
		for p.i < len(p.src) && '0' <= p.src[p.i] && p.src[p.i] <= '9' {
			if n = n*10 + uint64(p.src[p.i]-'0'); n > 1<<32 {
				return token{}, p.errorf("integer overflows 32 bits")
			}
			p.i++
		}
		if p.i < len(p.src) && isWordByte(p.src[p.i]) {
			return token{}, p.errorf("unexpected character in integer")
		}
		return token{kind: tokInt, n: n, start: start, end: p.i}, nil
	}
	return token{}, p.errorf("unexpected character %q", c)
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
}

// skip passes blanks, line ends and comments.
func (p *prefParser) skip() error {
	for p.i < len(p.src) {
		c := p.src[p.i]
		switch {
		case c == '\n':
			p.line++
			p.i++
		case c == '\r':
			p.i++
			if p.i >= len(p.src) || p.src[p.i] != '\n' {
				p.line++
			}
		case c == ' ' || c == '\t' || c == '\v' || c == '\f':
			p.i++
		case c == '#' || c == '/' && p.peek(1) == '/':
			for p.i < len(p.src) && p.src[p.i] != '\n' && p.src[p.i] != '\r' {
				p.i++
			}
		case c == '/' && p.peek(1) == '*':
			end := strings.Index(string(p.src[p.i+2:]), "*/")
			if end < 0 {
				return p.errorf("unterminated /* comment")
			}
			body := p.src[p.i : p.i+2+end+2]
			p.line += strings.Count(string(body), "\n") + strings.Count(string(body), "\r") - strings.Count(string(body), "\r\n")
			p.i += len(body)
		default:
			return nil
		}
	}
	return nil
}

func (p *prefParser) peek(k int) byte {
	if p.i+k < len(p.src) {
		return p.src[p.i+k]
	}
	return 0
}

// str decodes a quoted string starting at p.i.
func (p *prefParser) str(quote byte) (string, error) {
	p.i++
	var b []byte
	for {
		if p.i >= len(p.src) {
			return "", p.errorf("unterminated string")
		}
		c := p.src[p.i]
		p.i++
		switch c {
		case quote:
			return string(b), nil
		case 0:
			return "", p.errorf("NUL byte in string")
		case '\n':
			p.line++
		case '\\':
			var err error
			if b, err = p.escape(b); err != nil {
				return "", err
			}
			continue
		}
		b = append(b, c)
	}
}

func (p *prefParser) escape(b []byte) ([]byte, error) {
	c := p.peek(0)
	p.i++
	switch c {
	case '"', '\'', '\\':
		return append(b, c), nil
	case 'n':
		return append(b, '\n'), nil
	case 'r':
		return append(b, '\r'), nil
	case 'x':
		v, ok := p.hex(2)
		if !ok || v == 0 {
			return nil, p.errorf(`malformed or zero \x escape`)
		}
		return append(b, byte(v)), nil
	case 'u':
		v, ok := p.hex(4)
		switch {
		case !ok || v == 0:
			return nil, p.errorf(`malformed or zero \u escape`)
		case utf16.IsSurrogate(rune(v)) && v < 0xdc00:
			if p.peek(0) != '\\' || p.peek(1) != 'u' {
				return nil, p.errorf("expected low surrogate after high surrogate")
			}
			p.i += 2
			lo, ok := p.hex(4)
			r := utf16.DecodeRune(rune(v), rune(lo))
			if !ok || r == utf8.RuneError {
				return nil, p.errorf("invalid low surrogate after high surrogate")
			}
			return utf8.AppendRune(b, r), nil
		case utf16.IsSurrogate(rune(v)):
			return nil, p.errorf("low surrogate without high surrogate")
		}
		return utf8.AppendRune(b, rune(v)), nil
	}
	return nil, p.errorf("unknown escape \\%c", c)
}

func (p *prefParser) hex(n int) (uint32, bool) {
	if p.i+n > len(p.src) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(p.src[p.i:p.i+n]), 16, 32)
	if err != nil || strings.ContainsAny(string(p.src[p.i:p.i+n]), "+-_xX") {
		return 0, false
	}
	p.i += n
	return uint32(v), true
}
