package udf

import (
	"fmt"
	"strings"
)

// alphabet is the RFC 4648 §6 Base32 alphabet. UDF text is this alphabet,
// upper case, without padding, in groups of four characters joined by '-'.
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// groupSize is the number of characters between dashes.
const groupSize = 4

// encode returns the first chars Base32 characters of b, most significant
// bit first, with a dash every groupSize characters. Bits past the end of b
// read as zero.
func encode(b []byte, chars int) string {
	var sb strings.Builder
	sb.Grow(chars + chars/groupSize)
	for i := range chars {
		if i > 0 && i%groupSize == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(alphabet[bits5(b, 5*i)])
	}
	return sb.String()
}

// bits5 returns the five bits of b starting at bit offset off (0 is the most
// significant bit of b[0]); bits past the end of b read as zero.
func bits5(b []byte, off int) byte {
	var v uint16
	i := off / 8
	if i < len(b) {
		v = uint16(b[i]) << 8
	}
	if i+1 < len(b) {
		v |= uint16(b[i+1])
	}
	return byte(v>>(11-off%8)) & 0x1f
}

// decode parses UDF Base32 text: case-insensitive, dashes ignored. It returns
// the bits packed most significant first (the unused low bits of the last
// byte are zero) and the number of bits, five per character. It accepts at
// most maxChars characters.
func decode(s string, maxChars int) ([]byte, int, error) {
	out := make([]byte, 0, len(s)*5/8+1)
	var acc uint32
	var nacc, chars int
	for pos := 0; pos < len(s); pos++ {
		c := s[pos]
		if c == '-' {
			continue
		}
		v := value(c)
		if v < 0 {
			return nil, 0, fmt.Errorf("%w: character %q at position %d is not base32", ErrMalformed, rune(c), pos+1)
		}
		if chars++; chars > maxChars {
			return nil, 0, fmt.Errorf("%w: more than %d characters", ErrMalformed, maxChars)
		}
		acc = acc<<5 | uint32(v)
		if nacc += 5; nacc >= 8 {
			nacc -= 8
			out = append(out, byte(acc>>nacc))
		}
	}
	if nacc > 0 {
		out = append(out, byte(acc<<(8-nacc)))
	}
	return out, 5 * chars, nil
}

// value returns the Base32 value of c in either case, or -1.
func value(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c - 'a')
	case c >= '2' && c <= '7':
		return int(c-'2') + 26
	}
	return -1
}
