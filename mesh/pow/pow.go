// Package pow is the mesh service's proof-of-work admission control for
// unauthenticated writes (account creation, connection requests).
//
// The service's [Issuer] hands out a [Challenge]: a stateless token, MACed
// with HMAC-SHA256 under the service's key, naming a purpose, a random id,
// a difficulty and an expiry. The client finds a solution with [Solve] such
// that SHA-256(token || 0x00 || bind || solution) starts with that many zero
// bits, where bind is the hash of the request body it is about to send, so
// the work cannot be moved to another request. [Issuer.Verify] checks all of
// it in microseconds and returns a [Ticket]; the caller makes the challenge
// single-use by recording Ticket.ID in its store until Ticket.Expires and
// refusing an ID it has seen. This package keeps no state.
package pow

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Errors returned by [Issuer.Verify], wrapped with detail.
var (
	// ErrMalformed means the token or solution is not well formed.
	ErrMalformed = errors.New("pow: malformed challenge")
	// ErrBadMAC means the token was not issued under this key.
	ErrBadMAC = errors.New("pow: challenge not issued here")
	// ErrExpired means the challenge's lifetime is over.
	ErrExpired = errors.New("pow: challenge expired")
	// ErrWrongPurpose means the challenge was issued for another purpose.
	ErrWrongPurpose = errors.New("pow: challenge issued for another purpose")
	// ErrInsufficientWork means the solution does not have the required
	// leading zero bits for this token and bind, or the token asks for less
	// work than the issuer now requires.
	ErrInsufficientWork = errors.New("pow: insufficient work")
)

// Limits.
const (
	// MinKeySize is the shortest issuer key.
	MinKeySize = 32
	// MaxBits is the highest difficulty an issuer accepts.
	MaxBits = 40
	// MaxPurpose is the longest purpose string, in bytes.
	MaxPurpose = 64
	// MaxSolution is the longest solution Verify hashes, in bytes.
	MaxSolution = 64
)

// Token layout, all MACed: version (1) | bits (1) | expires, Unix seconds,
// big-endian (8) | id (16) | purpose length (1) | purpose | HMAC-SHA256 (32).
const (
	tokenVersion = 1
	idSize       = 16
	headerSize   = 1 + 1 + 8 + idSize + 1
	macSize      = sha256.Size
	maxTokenSize = headerSize + MaxPurpose + macSize
)

var encoding = base64.RawURLEncoding

// Challenge is what the service sends a client that must do work.
type Challenge struct {
	Token   string    `json:"token"`   // opaque, base64url without padding
	Bits    int       `json:"bits"`    // leading zero bits the solution needs
	Expires time.Time `json:"expires"` // after this Verify answers ErrExpired
}

// Ticket is a verified challenge. The caller records ID until Expires and
// refuses a second request with the same ID.
type Ticket struct {
	ID      []byte
	Expires time.Time
}

// Issuer issues and verifies challenges under one key. It is safe for
// concurrent use; instances sharing a key accept each other's challenges.
type Issuer struct {
	key  []byte
	bits int
	ttl  time.Duration
	now  func() time.Time
}

// NewIssuer returns an issuer with a key of at least [MinKeySize] random
// bytes, a difficulty of 1 to [MaxBits] leading zero bits (each bit doubles
// the client's expected work: 2^bits hashes), challenges valid for ttl (at
// least a second), and a clock (nil means time.Now).
func NewIssuer(key []byte, bits int, ttl time.Duration, now func() time.Time) (*Issuer, error) {
	if len(key) < MinKeySize {
		return nil, fmt.Errorf("pow: key of %d bytes, want at least %d", len(key), MinKeySize)
	}
	if bits < 1 || bits > MaxBits {
		return nil, fmt.Errorf("pow: difficulty %d bits, want 1 to %d", bits, MaxBits)
	}
	if ttl < time.Second {
		return nil, fmt.Errorf("pow: challenge lifetime %v, want at least 1s", ttl)
	}
	if now == nil {
		now = time.Now
	}
	return &Issuer{key: append([]byte(nil), key...), bits: bits, ttl: ttl, now: now}, nil
}

// token is a decoded challenge token.
type token struct {
	bits    int
	expires int64
	id      [idSize]byte
	purpose string
}

// Challenge returns a new challenge for purpose, a short constant naming the
// kind of request such as "account" or "connect". It panics if purpose is
// empty or longer than [MaxPurpose] bytes.
func (i *Issuer) Challenge(purpose string) Challenge {
	if purpose == "" || len(purpose) > MaxPurpose {
		panic(fmt.Sprintf("pow: purpose %q must be 1 to %d bytes", purpose, MaxPurpose))
	}
	t := token{bits: i.bits, expires: i.now().Add(i.ttl).Unix(), purpose: purpose}
	rand.Read(t.id[:])
	body := t.marshal()
	return Challenge{
		Token:   encoding.EncodeToString(append(body, i.mac(body)...)),
		Bits:    t.bits,
		Expires: time.Unix(t.expires, 0).UTC(),
	}
}

// marshal returns the MACed part of the token.
func (t token) marshal() []byte {
	b := make([]byte, 0, headerSize+len(t.purpose)+macSize)
	b = append(b, tokenVersion, byte(t.bits))
	b = binary.BigEndian.AppendUint64(b, uint64(t.expires))
	b = append(b, t.id[:]...)
	b = append(b, byte(len(t.purpose)))
	return append(b, t.purpose...)
}

// mac returns the HMAC-SHA256 of body in a new slice.
func (i *Issuer) mac(body []byte) []byte {
	m := hmac.New(sha256.New, i.key)
	m.Write(body)
	return m.Sum(nil)
}

// parseToken decodes the MACed part of a token (without the MAC).
func parseToken(b []byte) (token, error) {
	if len(b) < headerSize {
		return token{}, fmt.Errorf("%w: token too short", ErrMalformed)
	}
	if b[0] != tokenVersion {
		return token{}, fmt.Errorf("%w: token version %d, want %d", ErrMalformed, b[0], tokenVersion)
	}
	t := token{bits: int(b[1]), expires: int64(binary.BigEndian.Uint64(b[2:10]))}
	copy(t.id[:], b[10:10+idSize])
	n := int(b[headerSize-1])
	if n == 0 || n > MaxPurpose || len(b) != headerSize+n {
		return token{}, fmt.Errorf("%w: purpose length %d does not fit the token", ErrMalformed, n)
	}
	t.purpose = string(b[headerSize:])
	return t, nil
}

// Verify checks that token was issued by an issuer with this key for
// purpose, has not expired, asks for at least the issuer's current
// difficulty, and that SHA-256(token || 0x00 || bind || solution) has the
// token's number of leading zero bits. bind must be a fixed-length hash of
// the request. On success the caller must still check and record
// Ticket.ID to make the challenge single-use.
func (i *Issuer) Verify(purpose, tok string, bind, solution []byte) (Ticket, error) {
	if len(tok) > encoding.EncodedLen(maxTokenSize) {
		return Ticket{}, fmt.Errorf("%w: token of %d characters", ErrMalformed, len(tok))
	}
	if len(solution) > MaxSolution {
		return Ticket{}, fmt.Errorf("%w: solution of %d bytes, at most %d", ErrMalformed, len(solution), MaxSolution)
	}
	raw, err := encoding.DecodeString(tok)
	if err != nil || encoding.EncodeToString(raw) != tok {
		// Only the canonical encoding is accepted: the solution covers the
		// token text, so one token must have one text.
		return Ticket{}, fmt.Errorf("%w: token is not canonical unpadded base64url", ErrMalformed)
	}
	if len(raw) < headerSize+macSize {
		return Ticket{}, fmt.Errorf("%w: token of %d bytes is too short", ErrMalformed, len(raw))
	}
	body, sum := raw[:len(raw)-macSize], raw[len(raw)-macSize:]
	if !hmac.Equal(i.mac(body), sum) {
		return Ticket{}, ErrBadMAC
	}
	t, err := parseToken(body)
	if err != nil {
		return Ticket{}, err
	}
	if t.purpose != purpose {
		return Ticket{}, fmt.Errorf("%w: issued for %q, presented for %q", ErrWrongPurpose, t.purpose, purpose)
	}
	expires := time.Unix(t.expires, 0).UTC()
	if !i.now().Before(expires) {
		return Ticket{}, fmt.Errorf("%w: at %v", ErrExpired, expires)
	}
	if t.bits < i.bits {
		return Ticket{}, fmt.Errorf("%w: token asks for %d bits, %d are now required", ErrInsufficientWork, t.bits, i.bits)
	}
	if !solved(tok, bind, solution, t.bits) {
		return Ticket{}, fmt.Errorf("%w: solution does not give %d leading zero bits", ErrInsufficientWork, t.bits)
	}
	return Ticket{ID: t.id[:], Expires: expires}, nil
}

// solved reports whether SHA-256(token || 0x00 || bind || solution) has
// bits leading zero bits.
func solved(tok string, bind, solution []byte, bits int) bool {
	h := sha256.New()
	h.Write([]byte(tok))
	h.Write([]byte{0})
	h.Write(bind)
	h.Write(solution)
	var sum [sha256.Size]byte
	return leadingZeros(h.Sum(sum[:0]), bits)
}

// leadingZeros reports whether the first bits bits of b are zero.
func leadingZeros(b []byte, bits int) bool {
	full := bits / 8
	for _, c := range b[:full] {
		if c != 0 {
			return false
		}
	}
	rest := bits % 8
	return rest == 0 || b[full]>>(8-rest) == 0
}

// progressEvery is how many tries Solve makes between progress calls.
const progressEvery = 1 << 20

// Solve finds a solution for a challenge's token and bits and the request's
// bind (see [Issuer.Verify]). It stops with ctx's error when ctx is done, and
// calls progress, if not nil, with the number of tries so far every 2^20
// tries. The expected number of tries is 2^bits.
func Solve(ctx context.Context, tok string, bits int, bind []byte, progress func(tries uint64)) ([]byte, error) {
	if bits < 0 || bits > 8*sha256.Size {
		return nil, fmt.Errorf("pow: cannot solve for %d bits", bits)
	}
	buf := make([]byte, 0, len(tok)+1+len(bind)+8)
	buf = append(append(append(buf, tok...), 0), bind...)
	prefix := len(buf)
	buf = buf[:prefix+8]
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for tries := uint64(0); ; tries++ {
		if tries%(1<<16) == 0 && tries > 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if progress != nil && tries%progressEvery == 0 {
				progress(tries)
			}
		}
		binary.BigEndian.PutUint64(buf[prefix:], tries)
		sum := sha256.Sum256(buf)
		if leadingZeros(sum[:], bits) {
			return append([]byte(nil), buf[prefix:]...), nil
		}
	}
}
