package outlook

import (
	"encoding/asn1"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/endymail/endymail/clients/windows/certstore"
)

// Record tags of a security setting. Meanings marked "observed" come only
// from the values both public sources write; nobody documents them.
const (
	tagVersion    = 0x0001 // uint32, observed 1
	tagAlgorithms = 0x0002 // DER SEQUENCE OF AlgorithmIdentifier
	tagFormat     = 0x0006 // uint32, observed 1 (S/MIME, as against Exchange security: unverified)
	tagSignCert   = 0x0009 // SHA-1 thumbprint of the signing certificate
	tagNameA      = 0x000b // setting name, ANSI, NUL-terminated
	tagFlags      = 0x0020 // uint32 Flags
	tagEncCert    = 0x0022 // SHA-1 thumbprint of the encryption certificate
	tagNameW      = 0x0051 // setting name, UTF-16LE, NUL-terminated
)

// Flags are the check boxes of one security setting (record 0x0020). The
// bit meanings follow the ESConfig module (Default1, Default2,
// SendWithMsgs) and match the three check boxes of Outlook's "Change
// Security Settings" dialog; Outlook has not been run to confirm which of
// bits 0 and 1 is which, so endymail always sets both.
type Flags uint32

// The known flags.
const (
	DefaultForFormat Flags = 1 << 0 // default setting for this cryptographic message format
	DefaultForAll    Flags = 1 << 1 // default setting for all cryptographic messages
	SendCertificates Flags = 1 << 2 // send these certificates with signed messages
)

// Algorithm identifiers Outlook lists in record 0x0002: the encryption
// algorithms first, then the hash algorithms, the chosen one of each
// group first (both sources agree on this order).
var (
	OIDAES256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	OIDAES192 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	OIDAES128 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	OIDSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	OIDSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	OIDSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// algorithmIdentifier is X.509's AlgorithmIdentifier; Outlook writes it
// without parameters except for RC2.
type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

// DefaultAlgorithms is what endymail writes: AES-256-CBC and SHA-256 chosen
// (DESIGN.md §6), the other AES and SHA-2 variants allowed.
var DefaultAlgorithms = []asn1.ObjectIdentifier{OIDAES256, OIDAES192, OIDAES128, OIDSHA256, OIDSHA512, OIDSHA384}

// NewSetting returns a setting named name that signs with sign and
// encrypts with enc, with endymail's algorithms and all three flags set.
// The record order is the one both public sources write.
func NewSetting(name string, sign, enc certstore.Thumbprint) (*Setting, error) {
	st := &Setting{}
	st.setUint32(tagVersion, 1)
	st.setUint32(tagFormat, 1)
	st.SetFlags(DefaultForFormat | DefaultForAll | SendCertificates)
	st.SetName(name)
	st.SetSigningCert(sign)
	st.SetEncryptionCert(enc)
	if err := st.SetAlgorithms(DefaultAlgorithms); err != nil {
		return nil, err
	}
	return st, nil
}

func (st *Setting) get(tag uint16) []byte {
	for _, r := range st.Records {
		if r.Tag == tag {
			return r.Data
		}
	}
	return nil
}

// set replaces the first record with tag, or appends one.
func (st *Setting) set(tag uint16, data []byte) {
	for i := range st.Records {
		if st.Records[i].Tag == tag {
			st.Records[i].Data = data
			return
		}
	}
	st.Records = append(st.Records, Record{Tag: tag, Data: data})
}

func (st *Setting) setUint32(tag uint16, v uint32) {
	st.set(tag, binary.LittleEndian.AppendUint32(nil, v))
}

// Name returns the setting's name, from the UTF-16 record if there is one.
func (st *Setting) Name() string {
	if w := st.get(tagNameW); len(w) >= 2 {
		u := make([]uint16, len(w)/2)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(w[2*i:])
		}
		return strings.TrimRight(string(utf16.Decode(u)), "\x00")
	}
	return strings.TrimRight(string(st.get(tagNameA)), "\x00")
}

// SetName sets both name records; characters outside ASCII become '?' in
// the ANSI one.
func (st *Setting) SetName(name string) {
	var w []byte
	for _, c := range utf16.Encode([]rune(name + "\x00")) {
		w = binary.LittleEndian.AppendUint16(w, c)
	}
	a := []byte(strings.Map(func(r rune) rune {
		if r > 0x7e || r < 0x20 {
			return '?'
		}
		return r
	}, name))
	st.set(tagNameW, w)
	st.set(tagNameA, append(a, 0))
}

func (st *Setting) thumbprint(tag uint16) (certstore.Thumbprint, bool) {
	var t certstore.Thumbprint
	d := st.get(tag)
	if len(d) != len(t) {
		return t, false
	}
	copy(t[:], d)
	return t, true
}

// SigningCert returns the thumbprint of the signing certificate.
func (st *Setting) SigningCert() (certstore.Thumbprint, bool) { return st.thumbprint(tagSignCert) }

// EncryptionCert returns the thumbprint of the encryption certificate.
func (st *Setting) EncryptionCert() (certstore.Thumbprint, bool) { return st.thumbprint(tagEncCert) }

// SetSigningCert sets the signing certificate.
func (st *Setting) SetSigningCert(t certstore.Thumbprint) { st.set(tagSignCert, t[:]) }

// SetEncryptionCert sets the encryption certificate.
func (st *Setting) SetEncryptionCert(t certstore.Thumbprint) { st.set(tagEncCert, t[:]) }

// Flags returns the setting's flags (0 when the record is missing).
func (st *Setting) Flags() Flags {
	if d := st.get(tagFlags); len(d) == 4 {
		return Flags(binary.LittleEndian.Uint32(d))
	}
	return 0
}

// SetFlags sets the setting's flags.
func (st *Setting) SetFlags(f Flags) { st.setUint32(tagFlags, uint32(f)) }

// Algorithms returns the algorithm identifiers of record 0x0002.
func (st *Setting) Algorithms() ([]asn1.ObjectIdentifier, error) {
	var ids []algorithmIdentifier
	rest, err := asn1.Unmarshal(st.get(tagAlgorithms), &ids)
	if err != nil {
		return nil, fmt.Errorf("%w: algorithm list: %v", ErrMalformed, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the algorithm list", ErrMalformed, len(rest))
	}
	oids := make([]asn1.ObjectIdentifier, len(ids))
	for i, id := range ids {
		oids[i] = id.Algorithm
	}
	return oids, nil
}

// SetAlgorithms writes record 0x0002: the encryption algorithms, then the
// hash algorithms, each group with the preferred one first.
func (st *Setting) SetAlgorithms(oids []asn1.ObjectIdentifier) error {
	ids := make([]algorithmIdentifier, len(oids))
	for i, o := range oids {
		ids[i].Algorithm = o
	}
	der, err := asn1.Marshal(ids)
	if err != nil {
		return fmt.Errorf("encode algorithm list: %w", err)
	}
	st.set(tagAlgorithms, der)
	return nil
}
