// Package udf implements Uniform Data Fingerprints (draft-hallambaker-mesh-udf),
// the names endymail gives to keys, devices and accounts, and the UDF form of
// Shamir secret shares used for account recovery.
//
// A content fingerprint is H(UTF8(content type) || ':' || H(data)) with
// H = SHA-512 (or SHA3-512), prefixed with a version byte and shown as upper
// case Base32 in dash-separated groups of four characters, for example
// MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF. Compute one with [SHA512], [Key] or
// [Digest]; read one with [Parse]; check a fingerprint a user typed or read
// out against a computed one with [Fingerprint.Matches].
//
// Secrets are split with [Split] into [Share] values, shown with
// [Share.String] and read back with [ParseShare]; [Recover] joins them.
package udf

import (
	"crypto/sha3"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/bits"
)

// Presentation lengths, in bits including the version byte.
const (
	// DefaultBits is the length of [Fingerprint.String]: 28 characters.
	DefaultBits = 140
	// MinBits is the shortest presentation [Parse] and [Fingerprint.Matches]
	// accept, and the shortest [Fingerprint.Format] produces.
	MinBits = 100
	// MaxBits is a complete fingerprint: the version byte and a 512-bit
	// digest, 104 characters.
	MaxBits = 8 + 512
)

// Content types for [Key] and [Digest].
const (
	// PKIXKey is the content type of a DER SubjectPublicKeyInfo, the one the
	// draft's reference implementation uses for key fingerprints.
	PKIXKey = "application/x509-keyinfo"
	// OctetStream is the content type of data with no more specific type.
	OctetStream = "application/octet-stream"
)

// Errors returned by [Parse] and [ParseShare], wrapped with detail.
var (
	// ErrMalformed means the text is not UDF Base32 of an acceptable length.
	ErrMalformed = errors.New("udf: malformed")
	// ErrVersion means the version byte does not name the expected kind of UDF.
	ErrVersion = errors.New("udf: unknown version")
)

// Hash is the digest algorithm of a content fingerprint.
type Hash uint8

// The digest algorithms. Their version bytes, 96 (shown as 'M') and 80
// ('K'), are from the draft's type registry.
const (
	SHA2 Hash = 1 + iota // SHA-512, version byte 96
	SHA3                 // SHA3-512, version byte 80
)

const (
	versionSHA2 = 96
	versionSHA3 = 80
	// maxCompression is the largest compression level; see compression.
	maxCompression = 4
)

// String returns the algorithm name, "SHA-512" or "SHA3-512".
func (h Hash) String() string {
	switch h {
	case SHA2:
		return "SHA-512"
	case SHA3:
		return "SHA3-512"
	}
	return fmt.Sprintf("Hash(%d)", uint8(h))
}

func (h Hash) orDefault() Hash {
	if h == SHA3 {
		return SHA3
	}
	return SHA2
}

func (h Hash) version() byte {
	if h == SHA3 {
		return versionSHA3
	}
	return versionSHA2
}

func (h Hash) new() hash.Hash {
	if h == SHA3 {
		return sha3.New512()
	}
	return sha512.New()
}

// Fingerprint is a UDF content fingerprint: a version byte followed by a
// digest, either complete (as computed) or a prefix of it (as parsed from a
// shortened presentation). The zero value is not a fingerprint. Fingerprints
// compare with ==.
type Fingerprint struct {
	b [MaxBits / 8]byte // version byte then digest; bits from n on are zero
	n int               // significant bits in b
}

// Digest returns the fingerprint of data of the given content type (a MIME
// type such as "text/plain") under hash h. An unknown h means SHA2.
func Digest(h Hash, contentType string, data []byte) Fingerprint {
	h = h.orDefault()
	inner := h.new()
	inner.Write(data)
	return fromInner(h, contentType, inner.Sum(nil))
}

// DigestReader is [Digest] of everything read from r, read in pieces.
func DigestReader(h Hash, contentType string, r io.Reader) (Fingerprint, error) {
	h = h.orDefault()
	inner := h.new()
	if _, err := io.Copy(inner, r); err != nil {
		return Fingerprint{}, err
	}
	return fromInner(h, contentType, inner.Sum(nil)), nil
}

// fromInner returns the fingerprint for H(data) = inner.
func fromInner(h Hash, contentType string, inner []byte) Fingerprint {
	outer := h.new()
	outer.Write([]byte(contentType))
	outer.Write([]byte{':'})
	outer.Write(inner)
	sum := outer.Sum(nil)

	var f Fingerprint
	f.b[0] = h.version() + byte(compression(sum))
	copy(f.b[1:], sum)
	f.n = MaxBits
	return f
}

// SHA512 returns the SHA-512 fingerprint of data of the given content type.
func SHA512(contentType string, data []byte) Fingerprint {
	return Digest(SHA2, contentType, data)
}

// Key returns the fingerprint that names a public key: the SHA-512
// fingerprint of its encoding, with contentType naming that encoding (for
// example [PKIXKey] for a DER SubjectPublicKeyInfo). Devices and accounts are
// named by the Key fingerprint of their signing key.
func Key(contentType string, publicKey []byte) Fingerprint {
	return SHA512(contentType, publicKey)
}

// compression returns the compression level of a digest: 1, 2, 3 or 4 when
// its last 20, 30, 40 or 50 bits are zero, 0 otherwise. The level is added to
// the version byte; the digest bits themselves are presented unchanged, so a
// compressed fingerprint shows the extra work factor in its second character.
//
// Source: draft-hallambaker-mesh-udf, type registry (content digests 80–84
// and 96–100 for 0, 20, 30, 40 and 50 bits compressed), and its reference
// implementation, hallambaker/Mathematical-Mesh,
// Libraries/Goedel.Cryptography/UDF.cs, GetCompression, which tests the
// trailing bytes of the 64-byte digest and adds the level to the version
// byte. That code's byte masks for the 40- and 50-bit levels test more bits
// than the level names; here the trailing zero bits are counted exactly.
// Level 1 (2^-20 of digests) is the one that matters in practice.
func compression(digest []byte) int {
	tz := 0
	for i := len(digest) - 1; i >= 0; i-- {
		if digest[i] != 0 {
			tz += bits.TrailingZeros8(digest[i])
			break
		}
		tz += 8
	}
	switch {
	case tz >= 50:
		return 4
	case tz >= 40:
		return 3
	case tz >= 30:
		return 2
	case tz >= 20:
		return 1
	}
	return 0
}

// IsZero reports whether f is the zero value.
func (f Fingerprint) IsZero() bool { return f.n == 0 }

// Bits returns the number of bits f holds, including the version byte:
// [MaxBits] for a computed fingerprint, five per character for a parsed one.
func (f Fingerprint) Bits() int { return f.n }

// Hash returns the digest algorithm named by the version byte.
func (f Fingerprint) Hash() Hash {
	if f.b[0] >= versionSHA3 && f.b[0] <= versionSHA3+maxCompression {
		return SHA3
	}
	return SHA2
}

// Compression returns the compression level shown in the version byte, 0 to 4.
func (f Fingerprint) Compression() int {
	if f.n == 0 {
		return 0
	}
	return int(f.b[0] - f.Hash().version())
}

// String returns the [DefaultBits] presentation of f, or less if f holds
// fewer bits; "" for the zero value.
func (f Fingerprint) String() string { return f.Format(DefaultBits) }

// Format returns the first bits bits of f (including the version byte) as
// (bits+4)/5 Base32 characters in dash-separated groups of four. bits is
// raised to [MinBits] and lowered to [Fingerprint.Bits] if outside them.
func (f Fingerprint) Format(bits int) string {
	if f.n == 0 {
		return ""
	}
	bits = min(max(bits, MinBits), f.n)
	return encode(f.b[:], (bits+4)/5)
}

// Parse reads a fingerprint presentation of at least [MinBits] (20
// characters) and at most [MaxBits] (104 characters): case-insensitive,
// dashes optional. The result holds five bits per character.
func Parse(s string) (Fingerprint, error) {
	b, n, err := decode(s, MaxBits/5)
	if err != nil {
		return Fingerprint{}, err
	}
	if n < MinBits {
		return Fingerprint{}, fmt.Errorf("%w: %d characters, a fingerprint needs at least %d", ErrMalformed, n/5, MinBits/5)
	}
	v := b[0]
	if (v < versionSHA2 || v > versionSHA2+maxCompression) && (v < versionSHA3 || v > versionSHA3+maxCompression) {
		return Fingerprint{}, fmt.Errorf("%w: version byte %d is not a content fingerprint (80-84 or 96-100)", ErrVersion, v)
	}
	var f Fingerprint
	copy(f.b[:], b)
	f.n = n
	return f, nil
}

// Equal reports whether f and g hold the same bits, in constant time.
func (f Fingerprint) Equal(g Fingerprint) bool {
	return f.n == g.n && subtle.ConstantTimeCompare(f.b[:], g.b[:]) == 1
}

// Matches reports whether text, a presentation of at least [MinBits] as
// [Parse] reads it, is a prefix of f: what to call when a user types or reads
// out a fingerprint to confirm a computed one. It is false if text does not
// parse or is longer than f.
func (f Fingerprint) Matches(text string) bool {
	p, err := Parse(text)
	if err != nil || p.n > f.n {
		return false
	}
	return prefixEqual(f.b[:], p.b[:], p.n)
}

// prefixEqual compares the first n bits of a and b in time that depends
// only on n.
func prefixEqual(a, b []byte, n int) bool {
	full := n / 8
	eq := subtle.ConstantTimeCompare(a[:full], b[:full])
	if rest := n % 8; rest > 0 {
		mask := byte(0xff << (8 - rest))
		eq &= subtle.ConstantTimeByteEq(a[full]&mask, b[full]&mask)
	}
	return eq == 1
}
