package udf

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
)

// Errors returned by [Split] and [Recover], wrapped with detail.
var (
	// ErrSecretSize means the secret length has no prime modulus.
	ErrSecretSize = errors.New("udf: unsupported secret size")
	// ErrShareParams means the threshold or share count is out of range.
	ErrShareParams = errors.New("udf: invalid threshold or share count")
	// ErrTooFewShares means fewer shares than the threshold were given.
	ErrTooFewShares = errors.New("udf: too few shares")
	// ErrDuplicateShare means two shares have the same index.
	ErrDuplicateShare = errors.New("udf: duplicate share")
	// ErrInconsistentShares means the shares are not of one split: their
	// thresholds or sizes differ, or the shares beyond the threshold do not
	// lie on the polynomial the others define.
	ErrInconsistentShares = errors.New("udf: inconsistent shares")
)

// versionShare is the UDF version byte of a Shamir share, shown as 'S'.
const versionShare = 144

// MaxShares is the largest share count and threshold: the share header keeps
// each in four bits.
const MaxShares = 15

// primeOffsets[i] is the smallest d with 2^(32(i+1)) + d prime: the moduli
// for secrets of 4, 8, …, 64 bytes. Source: draft-hallambaker-mesh-udf
// (Shamir secret sharing) and its reference implementation,
// hallambaker/Mathematical-Mesh, Libraries/Goedel.Cryptography/
// KeyShareSymmetric.cs, PrimeValues. TestPrimeOffsets checks each is prime
// and the first above its power of two.
var primeOffsets = [16]int64{15, 13, 61, 51, 7, 133, 735, 297, 127, 27, 55, 231, 235, 211, 165, 75}

// modulus returns the prime for an n-byte secret, or an error if there is none.
func modulus(n int) (*big.Int, error) {
	if n < 4 || n > 64 || n%4 != 0 {
		return nil, fmt.Errorf("%w: %d bytes, want a multiple of 4 from 4 to 64 (16 or 32 for a key)", ErrSecretSize, n)
	}
	p := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
	return p.Add(p, big.NewInt(primeOffsets[n/4-1])), nil
}

// Share is one share of a secret split by [Split]: the point (x, f(x)) of a
// random polynomial f of degree threshold-1 whose constant term is the
// secret, over the prime 2^(8n) + offset for an n-byte secret. Its text form
// is UDF Base32 of the version byte 144, one byte threshold<<4 | (x-1), and
// f(x) as n bytes big-endian. Shares are secrets: do not log them.
type Share struct {
	threshold int
	x         int
	y         []byte // f(x), big-endian, as long as the secret
}

// Threshold returns the number of shares needed to recover the secret.
func (s Share) Threshold() int { return s.threshold }

// Index returns the share's x coordinate, 1 to 16.
func (s Share) Index() int { return s.x }

// Split splits secret, of 4 to 64 bytes in steps of 4 (16 or 32 for a key),
// into shares of which any threshold recover it and fewer reveal nothing.
// It needs 2 <= threshold <= shares <= [MaxShares]. The coefficients are
// drawn uniformly modulo the prime from crypto/rand.
func Split(secret []byte, threshold, shares int) ([]Share, error) {
	return split(rand.Reader, secret, threshold, shares)
}

func split(random io.Reader, secret []byte, threshold, shares int) ([]Share, error) {
	p, err := modulus(len(secret))
	if err != nil {
		return nil, err
	}
	if threshold < 2 || threshold > shares || shares > MaxShares {
		return nil, fmt.Errorf("%w: %d of %d, want 2 <= threshold <= shares <= %d", ErrShareParams, threshold, shares, MaxShares)
	}
	coeffs := make([]*big.Int, threshold)
	coeffs[0] = new(big.Int).SetBytes(secret)
	limit := new(big.Int).Lsh(big.NewInt(1), uint(8*len(secret)))
	for {
		for i := 1; i < threshold; i++ {
			if coeffs[i], err = rand.Int(random, p); err != nil {
				return nil, fmt.Errorf("udf: drawing share coefficients: %w", err)
			}
		}
		out, ok := evaluate(coeffs, p, limit, len(secret), threshold, shares)
		if ok {
			return out, nil
		}
		// A share value did not fit in len(secret) bytes (probability about
		// shares·offset/2^(8n)): draw a new polynomial, as the reference
		// implementation does, so every share is exactly n bytes.
	}
}

// evaluate returns the shares at x = 1..shares of the polynomial with the
// given coefficients, or false if a value is not below limit.
func evaluate(coeffs []*big.Int, p, limit *big.Int, size, threshold, shares int) ([]Share, bool) {
	out := make([]Share, shares)
	for x := 1; x <= shares; x++ {
		bx := big.NewInt(int64(x))
		y := new(big.Int)
		for i := len(coeffs) - 1; i >= 0; i-- { // Horner
			y.Mul(y, bx).Add(y, coeffs[i]).Mod(y, p)
		}
		if y.Cmp(limit) >= 0 {
			return nil, false
		}
		out[x-1] = Share{threshold: threshold, x: x, y: y.FillBytes(make([]byte, size))}
	}
	return out, true
}

// Recover returns the secret the shares were split from. The shares must
// come from one split, have distinct indices and number at least their
// threshold; shares beyond the threshold are checked against the others, so
// a corrupted or foreign share is reported rather than silently used.
func Recover(shares []Share) ([]byte, error) {
	if len(shares) == 0 {
		return nil, fmt.Errorf("%w: none given", ErrTooFewShares)
	}
	first := shares[0]
	p, err := modulus(len(first.y))
	if err != nil {
		return nil, err
	}
	seen := make(map[int]bool, len(shares))
	for i, s := range shares {
		switch {
		case s.threshold != first.threshold:
			return nil, fmt.Errorf("%w: share %d has threshold %d, share 1 has %d", ErrInconsistentShares, i+1, s.threshold, first.threshold)
		case len(s.y) != len(first.y):
			return nil, fmt.Errorf("%w: share %d holds %d bytes, share 1 holds %d", ErrInconsistentShares, i+1, len(s.y), len(first.y))
		case seen[s.x]:
			return nil, fmt.Errorf("%w: index %d given twice", ErrDuplicateShare, s.x)
		}
		seen[s.x] = true
	}
	k := first.threshold
	if k < 2 || len(shares) < k {
		return nil, fmt.Errorf("%w: %d given, threshold is %d", ErrTooFewShares, len(shares), k)
	}
	basis := shares[:k]
	for _, s := range shares[k:] {
		if interpolate(basis, s.x, p).Cmp(new(big.Int).SetBytes(s.y)) != 0 {
			return nil, fmt.Errorf("%w: share with index %d does not match the others", ErrInconsistentShares, s.x)
		}
	}
	secret := interpolate(basis, 0, p)
	if secret.BitLen() > 8*len(first.y) {
		return nil, fmt.Errorf("%w: they do not recover a %d-byte secret", ErrInconsistentShares, len(first.y))
	}
	return secret.FillBytes(make([]byte, len(first.y))), nil
}

// interpolate returns f(at) mod p for the polynomial through the shares,
// by Lagrange interpolation.
func interpolate(shares []Share, at int, p *big.Int) *big.Int {
	sum := new(big.Int)
	for i, si := range shares {
		num, den := big.NewInt(1), big.NewInt(1)
		for j, sj := range shares {
			if i == j {
				continue
			}
			num.Mul(num, big.NewInt(int64(at-sj.x))).Mod(num, p)
			den.Mul(den, big.NewInt(int64(si.x-sj.x))).Mod(den, p)
		}
		term := new(big.Int).SetBytes(si.y)
		term.Mul(term, num).Mul(term, den.ModInverse(den, p)).Mod(term, p)
		sum.Add(sum, term).Mod(sum, p)
	}
	return sum
}

// String returns the share in UDF Base32 form, starting with 'S'.
func (s Share) String() string {
	b := make([]byte, 0, 2+len(s.y))
	b = append(b, versionShare, byte(s.threshold<<4|(s.x-1)&0xf))
	b = append(b, s.y...)
	return encode(b, (8*len(b)+4)/5)
}

// ParseShare reads a share in the form [Share.String] writes, in either case,
// dashes optional.
func ParseShare(text string) (Share, error) {
	b, n, err := decode(text, (8*(2+64)+4)/5)
	if err != nil {
		return Share{}, err
	}
	if len(b) < 1 || b[0] != versionShare {
		return Share{}, fmt.Errorf("%w: not a share (a share starts with 'S', version byte 144)", ErrVersion)
	}
	size := n/8 - 2
	if size < 4 || size > 64 || size%4 != 0 || n != (8*(size+2)+4)/5*5 {
		return Share{}, fmt.Errorf("%w: %d characters is not the length of a share of 4 to 64 bytes in steps of 4", ErrMalformed, n/5)
	}
	if n%8 != 0 && b[len(b)-1] != 0 {
		return Share{}, fmt.Errorf("%w: padding bits of the last character are not zero", ErrMalformed)
	}
	s := Share{threshold: int(b[1] >> 4), x: int(b[1]&0xf) + 1, y: b[2 : 2+size]}
	if s.threshold < 2 {
		return Share{}, fmt.Errorf("%w: threshold %d, want at least 2", ErrMalformed, s.threshold)
	}
	return s, nil
}
