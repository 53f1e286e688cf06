package wlmail

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
)

// ErrFormat reports bytes that are not a Windows Live Mail account file
// this package can edit without changing anything else in it.
var ErrFormat = errors.New("not a windows live mail .oeaccount file")

// rootElement is the document element of every account file.
const rootElement = "MessageAccount"

// Account is a parsed account{GUID}.oeaccount file: an XML document in
// UTF-16LE with a byte-order mark whose root <MessageAccount> holds one
// element per setting, each with a type attribute (SZ, DWORD or BINARY), as
// described in Microsoft's "New Handling for Account Data" (Windows Mail,
// the predecessor that introduced the format:
// https://learn.microsoft.com/previous-versions/windows/desktop/wab/new-handling-for-account-data,
// MicrosoftDocs/win32). Edits replace single elements in the original text,
// so every other byte of the file is kept: [Account.Bytes] of an unchanged
// Account returns exactly the bytes [Parse] read.
type Account struct {
	text    string    // the document, UTF-8, without the byte-order mark
	elems   []element // children of <MessageAccount>, in order
	rootEnd int       // offset of </MessageAccount> in text
}

// element is one child of the root, located by byte offsets in text.
type element struct {
	name       string
	start, end int    // the whole element, text[start:end]
	value      string // its character data, unescaped
}

// Parse reads an account file.
func Parse(b []byte) (*Account, error) {
	text, err := decodeUTF16(b)
	if err != nil {
		return nil, err
	}
	a := &Account{text: text, rootEnd: -1}
	if err := a.scan(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return a, nil
}

func decodeUTF16(b []byte) (string, error) {
	if len(b) < 2 || len(b)%2 != 0 || b[0] != 0xff || b[1] != 0xfe {
		return "", fmt.Errorf("%w: no UTF-16LE byte-order mark", ErrFormat)
	}
	u := make([]uint16, (len(b)-2)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2+2*i:])
	}
	text := string(utf16.Decode(u))
	if enc := utf16.Encode([]rune(text)); len(enc) != len(u) || !equal16(enc, u) {
		return "", fmt.Errorf("%w: invalid UTF-16 (unpaired surrogate)", ErrFormat)
	}
	return text, nil
}

func equal16(a, b []uint16) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// scan walks the XML tokens, recording where each child of the root starts
// and ends.
func (a *Account) scan() error {
	d := xml.NewDecoder(strings.NewReader(a.text))
	d.Strict = true
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-16", "utf-16le", "utf-8", "unicode":
			return r, nil // already decoded
		}
		return nil, fmt.Errorf("unexpected encoding %q", label)
	}
	depth, sawRoot := 0, false
	var cur *element
	for {
		start := int(d.InputOffset())
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 1 && (sawRoot || t.Name.Local != rootElement || t.Name.Space != ""):
				return fmt.Errorf("root element <%s>, want one <%s>", t.Name.Local, rootElement)
			case depth == 1:
				sawRoot = true
			case depth == 2:
				a.elems = append(a.elems, element{name: t.Name.Local, start: start})
				cur = &a.elems[len(a.elems)-1]
			}
		case xml.EndElement:
			depth--
			switch depth {
			case 0:
				if int(d.InputOffset()) == start {
					return fmt.Errorf("empty <%s/>", rootElement)
				}
				a.rootEnd = start
			case 1:
				cur.end = int(d.InputOffset())
				cur = nil
			}
		case xml.CharData:
			if depth == 2 {
				cur.value += string(t)
			}
		}
	}
	if !sawRoot || a.rootEnd < 0 {
		return fmt.Errorf("no <%s> element", rootElement)
	}
	return nil
}

// Bytes returns the file: byte-order mark and UTF-16LE text.
func (a *Account) Bytes() []byte {
	u := utf16.Encode([]rune(a.text))
	b := make([]byte, 2+2*len(u))
	b[0], b[1] = 0xff, 0xfe
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2+2*i:], c)
	}
	return b
}

// Value returns the text of the first element called name.
func (a *Account) Value(name string) (string, bool) {
	if e := a.find(name); e != nil {
		return e.value, true
	}
	return "", false
}

// element returns the exact XML of the first element called name, as it
// appears in the file.
func (a *Account) element(name string) (string, bool) {
	if e := a.find(name); e != nil {
		return a.text[e.start:e.end], true
	}
	return "", false
}

// Address returns the account's sending address (SMTP_Email_Address), or ""
// for accounts without one (news and directory accounts).
func (a *Account) Address() string {
	v, _ := a.Value("SMTP_Email_Address")
	return strings.TrimSpace(v)
}

func (a *Account) find(name string) *element {
	for i := range a.elems {
		if a.elems[i].name == name {
			return &a.elems[i]
		}
	}
	return nil
}

// SetBinary sets element name to a BINARY value given as hex digits,
// replacing the first element of that name or, if there is none, adding a
// line after the last setting, indented like it.
func (a *Account) SetBinary(name, hexValue string) error {
	var esc bytes.Buffer
	if err := xml.EscapeText(&esc, []byte(hexValue)); err != nil {
		return err
	}
	xmlText := "<" + name + ` type="BINARY">` + esc.String() + "</" + name + ">"
	return a.put(name, xmlText)
}

// put replaces the first element called name with xmlText, or inserts it.
func (a *Account) put(name, xmlText string) error {
	if e := a.find(name); e != nil {
		return a.splice(e.start, e.end, xmlText)
	}
	nl := "\n"
	if strings.Contains(a.text, "\r\n") {
		nl = "\r\n"
	}
	if len(a.elems) == 0 {
		// No line to copy the layout of: add the bare element, which
		// Remove takes out again byte for byte.
		return a.splice(a.rootEnd, a.rootEnd, xmlText)
	}
	last := a.elems[len(a.elems)-1]
	return a.splice(last.end, last.end, nl+a.indentOf(last)+xmlText)
}

// Remove deletes every element called name together with the line break
// and indentation before it, undoing what [Account.SetBinary] inserted.
func (a *Account) Remove(name string) error {
	for e := a.find(name); e != nil; e = a.find(name) {
		start := e.start - len(a.indentOf(*e))
		switch {
		case strings.HasSuffix(a.text[:start], "\r\n"):
			start -= 2
		case strings.HasSuffix(a.text[:start], "\n"):
			start--
		default:
			start = e.start
		}
		if err := a.splice(start, e.end, ""); err != nil {
			return err
		}
	}
	return nil
}

// indentOf returns the spaces and tabs between the start of e's line and e.
func (a *Account) indentOf(e element) string {
	line := a.text[:e.start]
	i := strings.LastIndexAny(line, "\n")
	indent := line[i+1:]
	if strings.Trim(indent, " \t") != "" {
		return ""
	}
	return indent
}

// splice replaces text[from:to] with s and re-scans, so offsets stay right
// and the result is known to be well-formed.
func (a *Account) splice(from, to int, s string) error {
	next := &Account{text: a.text[:from] + s + a.text[to:], rootEnd: -1}
	if err := next.scan(); err != nil {
		return fmt.Errorf("edit would break the account file: %w", err)
	}
	*a = *next
	return nil
}
