package outlook

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The layout of the security-settings value, as far as public sources
// establish it. No Microsoft specification exists; this follows two
// independent scripts that read and write it and agree byte for byte:
//
//   - glueckkanja-pki/PKI-Configuration-Tools, ActivateSignatures.ps1
//     (CreateRegistryValue / the OutlookSignatureSettings parser), which
//     distinguishes 32- and 64-bit Office;
//   - a PowerShell "ESConfig" module (Get-OutlookESConfig /
//     Set-OutlookESConfig) that parses several settings in one value.
//
// The value name 11020355 reads as a MAPI property tag: type 0x1102
// (PT_MV_BINARY) and id 0x0355, and the container is how MAPI stores a
// PT_MV_BINARY in the registry: a count, then one SBinary {ULONG cb;
// LPBYTE lpb} per value with the pointer replaced by an offset from the
// start of the blob, then the values. On 64-bit Office cb is followed by
// four bytes of padding and the offset is 8 bytes (table entries of 16
// bytes); on 32-bit Office both are 4 bytes (8-byte entries). Some writers
// pad the end with zeros. Each value is one named security setting
// ("Change Security Settings" in Outlook's Trust Center): a sequence of
// records, each tag (uint16 LE), length (uint16 LE, counting these four
// bytes) and data. Known tags are listed below; unknown records are kept
// as they are.

// Layout is the pointer size of the Outlook build that wrote a value.
type Layout int

// The two layouts.
const (
	Layout32 Layout = 4 // 32-bit Office: 8-byte table entries
	Layout64 Layout = 8 // 64-bit Office: 16-byte table entries
)

// ErrMalformed reports a security-settings value this package cannot read
// back byte for byte; endymail does not overwrite what it cannot parse.
var ErrMalformed = errors.New("malformed outlook security settings")

// maxSettings bounds the count field; Outlook's dialog holds a handful.
const maxSettings = 256

// SecuritySettings is the decoded 11020355 value: the user's named
// security settings.
type SecuritySettings struct {
	Layout   Layout
	Settings []*Setting
	// Padding is the number of zero bytes after the last setting.
	Padding int
}

// Setting is one named security setting: its records, in file order.
type Setting struct {
	Records []Record
}

// Record is one tag-length-data record of a Setting.
type Record struct {
	Tag  uint16
	Data []byte
}

// DecodeSettings parses a security-settings value. Any value it accepts
// encodes back to the same bytes.
func DecodeSettings(b []byte) (*SecuritySettings, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n < 1 || n > maxSettings {
		return nil, fmt.Errorf("%w: %d settings", ErrMalformed, binary.LittleEndian.Uint32(b))
	}
	s := &SecuritySettings{}
	switch {
	case len(b) >= 4+16*n && binary.LittleEndian.Uint64(b[12:]) == uint64(4+16*n):
		s.Layout = Layout64
	case len(b) >= 4+8*n && binary.LittleEndian.Uint32(b[8:]) == uint32(4+8*n):
		s.Layout = Layout32
	default:
		return nil, fmt.Errorf("%w: table of %d settings fits neither 32- nor 64-bit layout", ErrMalformed, n)
	}
	pos := 4 + 2*int(s.Layout)*n
	for i := range n {
		size, off, err := s.tableEntry(b, i)
		if err != nil {
			return nil, err
		}
		if off != uint64(pos) || size > uint64(len(b)-pos) {
			return nil, fmt.Errorf("%w: setting %d at %d+%d, want at %d within %d bytes", ErrMalformed, i, off, size, pos, len(b))
		}
		st, err := decodeSetting(b[pos : pos+int(size)])
		if err != nil {
			return nil, fmt.Errorf("setting %d: %w", i, err)
		}
		s.Settings = append(s.Settings, st)
		pos += int(size)
	}
	for _, c := range b[pos:] {
		if c != 0 {
			return nil, fmt.Errorf("%w: data after the last setting", ErrMalformed)
		}
	}
	s.Padding = len(b) - pos
	return s, nil
}

// tableEntry reads entry i of the SBinary table.
func (s *SecuritySettings) tableEntry(b []byte, i int) (size, off uint64, err error) {
	p := 4 + 2*int(s.Layout)*i
	if s.Layout == Layout32 {
		return uint64(binary.LittleEndian.Uint32(b[p:])), uint64(binary.LittleEndian.Uint32(b[p+4:])), nil
	}
	if pad := binary.LittleEndian.Uint32(b[p+4:]); pad != 0 {
		return 0, 0, fmt.Errorf("%w: non-zero padding in table entry %d", ErrMalformed, i)
	}
	return uint64(binary.LittleEndian.Uint32(b[p:])), binary.LittleEndian.Uint64(b[p+8:]), nil
}

func decodeSetting(b []byte) (*Setting, error) {
	st := &Setting{}
	for p := 0; p < len(b); {
		if len(b)-p < 4 {
			return nil, fmt.Errorf("%w: %d stray bytes after the last record", ErrMalformed, len(b)-p)
		}
		tag := binary.LittleEndian.Uint16(b[p:])
		l := int(binary.LittleEndian.Uint16(b[p+2:]))
		if l < 4 || l > len(b)-p {
			return nil, fmt.Errorf("%w: record %#04x of length %d at %d of %d", ErrMalformed, tag, l, p, len(b))
		}
		st.Records = append(st.Records, Record{Tag: tag, Data: append([]byte(nil), b[p+4:p+l]...)})
		p += l
	}
	return st, nil
}

// Encode returns the value's bytes.
func (s *SecuritySettings) Encode() ([]byte, error) {
	if s.Layout != Layout32 && s.Layout != Layout64 {
		return nil, fmt.Errorf("outlook security settings: unknown layout %d", s.Layout)
	}
	if len(s.Settings) < 1 || len(s.Settings) > maxSettings {
		return nil, fmt.Errorf("outlook security settings: %d settings, want 1 to %d", len(s.Settings), maxSettings)
	}
	bodies := make([][]byte, len(s.Settings))
	for i, st := range s.Settings {
		b, err := st.encode()
		if err != nil {
			return nil, fmt.Errorf("setting %d: %w", i, err)
		}
		bodies[i] = b
	}
	out := binary.LittleEndian.AppendUint32(nil, uint32(len(bodies)))
	off := 4 + 2*int(s.Layout)*len(bodies)
	for _, b := range bodies {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(b)))
		if s.Layout == Layout32 {
			out = binary.LittleEndian.AppendUint32(out, uint32(off))
		} else {
			out = binary.LittleEndian.AppendUint32(out, 0)
			out = binary.LittleEndian.AppendUint64(out, uint64(off))
		}
		off += len(b)
	}
	for _, b := range bodies {
		out = append(out, b...)
	}
	return append(out, make([]byte, s.Padding)...), nil
}

func (st *Setting) encode() ([]byte, error) {
	var out []byte
	for _, r := range st.Records {
		if len(r.Data) > 0xffff-4 {
			return nil, fmt.Errorf("record %#04x: %d bytes is too long", r.Tag, len(r.Data))
		}
		out = binary.LittleEndian.AppendUint16(out, r.Tag)
		out = binary.LittleEndian.AppendUint16(out, uint16(4+len(r.Data)))
		out = append(out, r.Data...)
	}
	return out, nil
}
