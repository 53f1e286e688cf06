package udf

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"math/big"
	"os"
	"strconv"
	"strings"
	"testing"
)

type shareVector struct {
	secret    []byte
	threshold int
	coeffs    []*big.Int
	shares    []string
}

func loadShareVectors(t testing.TB) []shareVector {
	t.Helper()
	f, err := os.Open("testdata/shares.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []shareVector
	var cur *shareVector
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if strings.HasPrefix(text, "#") {
			continue
		}
		if text == "" {
			cur = nil
			continue
		}
		key, val, _ := strings.Cut(text, " ")
		if cur == nil {
			out = append(out, shareVector{})
			cur = &out[len(out)-1]
		}
		switch key {
		case "secret":
			cur.secret, err = hex.DecodeString(val)
		case "threshold":
			cur.threshold, err = strconv.Atoi(val)
		case "coefficient":
			c, ok := new(big.Int).SetString(val, 16)
			if !ok {
				t.Fatalf("shares.txt:%d: bad coefficient", line)
			}
			cur.coeffs = append(cur.coeffs, c)
		case "share":
			cur.shares = append(cur.shares, val)
		default:
			t.Fatalf("shares.txt:%d: unknown key %q", line, key)
		}
		if err != nil {
			t.Fatalf("shares.txt:%d: %v", line, err)
		}
	}
	if len(out) == 0 {
		t.Fatal("no vectors in shares.txt")
	}
	return out
}

func TestShareVectors(t *testing.T) {
	for _, v := range loadShareVectors(t) {
		p, err := modulus(len(v.secret))
		if err != nil {
			t.Fatal(err)
		}
		coeffs := append([]*big.Int{new(big.Int).SetBytes(v.secret)}, v.coeffs...)
		limit := new(big.Int).Lsh(big.NewInt(1), uint(8*len(v.secret)))
		shares, ok := evaluate(coeffs, p, limit, len(v.secret), v.threshold, len(v.shares))
		if !ok {
			t.Fatalf("secret %x: evaluate refused the vector's polynomial", v.secret)
		}
		parsed := make([]Share, len(v.shares))
		for i, want := range v.shares {
			if got := shares[i].String(); got != want {
				t.Errorf("secret %x share %d = %s, want %s", v.secret, i+1, got, want)
			}
			if parsed[i], err = ParseShare(want); err != nil {
				t.Fatalf("ParseShare(%s): %v", want, err)
			}
			if parsed[i].Index() != i+1 || parsed[i].Threshold() != v.threshold {
				t.Errorf("ParseShare(%s): index %d threshold %d, want %d %d", want, parsed[i].Index(), parsed[i].Threshold(), i+1, v.threshold)
			}
		}
		forEachSubset(len(parsed), func(idx []int) {
			if len(idx) < v.threshold {
				return
			}
			got, err := Recover(pick(parsed, idx))
			if err != nil || !bytes.Equal(got, v.secret) {
				t.Errorf("Recover(shares %v) = %x, %v; want %x", idx, got, err, v.secret)
			}
		})
	}
}

// forEachSubset calls fn with each non-empty subset of 0..n-1, in order.
func forEachSubset(n int, fn func([]int)) {
	for mask := 1; mask < 1<<n; mask++ {
		var idx []int
		for i := range n {
			if mask&(1<<i) != 0 {
				idx = append(idx, i)
			}
		}
		fn(idx)
	}
}

func pick(shares []Share, idx []int) []Share {
	out := make([]Share, len(idx))
	for i, j := range idx {
		out[i] = shares[j]
	}
	return out
}

func TestSplitRecoverSubsets(t *testing.T) {
	for _, tc := range []struct{ size, k, n int }{
		{32, 2, 3}, {32, 3, 5}, {16, 2, 3}, {16, 4, 7}, {4, 2, 2}, {64, 3, 4}, {32, 15, 15},
	} {
		secret := bytes.Repeat([]byte{0xa5}, tc.size)
		secret[0] = byte(tc.k)
		shares, err := Split(secret, tc.k, tc.n)
		if err != nil {
			t.Fatalf("Split(%d bytes, %d, %d): %v", tc.size, tc.k, tc.n, err)
		}
		forEachSubset(tc.n, func(idx []int) {
			sub := pick(shares, idx)
			got, err := Recover(sub)
			if len(idx) >= tc.k {
				if err != nil || !bytes.Equal(got, secret) {
					t.Errorf("%d-of-%d, %d bytes: Recover(%v) = %x, %v; want the secret", tc.k, tc.n, tc.size, idx, got, err)
				}
				return
			}
			if !errors.Is(err, ErrTooFewShares) || got != nil {
				t.Errorf("%d-of-%d: Recover of %d shares = %x, %v; want ErrTooFewShares", tc.k, tc.n, len(idx), got, err)
			}
			if len(idx) < 2 {
				return
			}
			// Rewrite the shares to claim a lower threshold: interpolating
			// fewer than k points must not give the secret.
			for i := range sub {
				sub[i].threshold = len(idx)
			}
			if got, err := Recover(sub); err == nil && bytes.Equal(got, secret) {
				t.Errorf("%d-of-%d: %d shares with a forged threshold recovered the secret", tc.k, tc.n, len(idx))
			}
		})
	}
}

func TestSplitErrors(t *testing.T) {
	for _, size := range []int{0, 1, 3, 17, 68} {
		if _, err := Split(make([]byte, size), 2, 3); !errors.Is(err, ErrSecretSize) {
			t.Errorf("Split(%d bytes) error = %v, want ErrSecretSize", size, err)
		}
	}
	for _, tc := range []struct{ k, n int }{{1, 3}, {0, 3}, {4, 3}, {2, 16}, {16, 16}} {
		if _, err := Split(make([]byte, 32), tc.k, tc.n); !errors.Is(err, ErrShareParams) {
			t.Errorf("Split(%d of %d) error = %v, want ErrShareParams", tc.k, tc.n, err)
		}
	}
}

func TestSplitIsRandom(t *testing.T) {
	secret := make([]byte, 32)
	a, err := Split(secret, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Split(secret, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a[0].y, b[0].y) {
		t.Error("two splits of one secret gave the same first share")
	}
	if bytes.Equal(a[0].y, secret) {
		t.Error("a share equals the secret")
	}
}

func TestEvaluateRejectsOversizedShare(t *testing.T) {
	p, _ := modulus(4)
	limit := new(big.Int).Lsh(big.NewInt(1), 32)
	coeffs := []*big.Int{big.NewInt(0xffffffff), big.NewInt(1)} // f(1) = 2^32 >= limit, < p
	if _, ok := evaluate(coeffs, p, limit, 4, 2, 2); ok {
		t.Error("evaluate accepted a share value that does not fit in 4 bytes")
	}
}

func TestRecoverErrors(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	a, _ := Split(secret, 2, 4)
	b, _ := Split(secret, 2, 4)
	c, _ := Split(secret, 3, 4)
	d, _ := Split(secret[:16], 2, 4)
	corrupt := a[2]
	corrupt.y = bytes.Clone(corrupt.y)
	corrupt.y[5] ^= 1
	for _, tc := range []struct {
		name   string
		shares []Share
		want   error
	}{
		{"none", nil, ErrTooFewShares},
		{"one of 2", a[:1], ErrTooFewShares},
		{"duplicate", []Share{a[0], a[0]}, ErrDuplicateShare},
		{"mixed thresholds", []Share{a[0], c[1], c[2]}, ErrInconsistentShares},
		{"mixed sizes", []Share{a[0], d[1]}, ErrInconsistentShares},
		{"corrupted extra share", []Share{a[0], a[1], corrupt}, ErrInconsistentShares},
		{"extra share of another split", []Share{a[0], a[1], b[2]}, ErrInconsistentShares},
		{"zero share", []Share{{}}, ErrSecretSize},
	} {
		got, err := Recover(tc.shares)
		if !errors.Is(err, tc.want) || got != nil {
			t.Errorf("%s: Recover = %x, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

func TestParseShareErrors(t *testing.T) {
	good := "SAQE-GNTI-G5Y2-ONPD-ZWTY-HK5L-7AEE-A"
	for _, tc := range []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrVersion},
		{"fingerprint", "MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF", ErrVersion},
		{"one character short", good[:len(good)-1], ErrMalformed},
		{"one character long", good + "A", ErrMalformed},
		{"padding bits set", good[:len(good)-1] + "B", ErrMalformed},
		{"bad character", strings.Replace(good, "G", "1", 1), ErrMalformed},
		{"threshold 0", encode(append([]byte{versionShare, 0x00}, make([]byte, 16)...), 29), ErrMalformed},
		{"threshold 1", encode(append([]byte{versionShare, 0x10}, make([]byte, 16)...), 29), ErrMalformed},
		{"18-byte value", encode(append([]byte{versionShare, 0x20}, make([]byte, 18)...), 32), ErrMalformed},
		{"too long", encode(append([]byte{versionShare, 0x20}, make([]byte, 68)...), 112), ErrMalformed},
	} {
		_, err := ParseShare(tc.in)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: ParseShare(%q) error = %v, want %v", tc.name, tc.in, err, tc.want)
		}
	}
	s, err := ParseShare(strings.ToLower(strings.ReplaceAll(good, "-", "")))
	if err != nil || s.String() != good {
		t.Errorf("ParseShare of lower case, no dashes = %v, %v; want %s", s, err, good)
	}
}

// TestPrimeOffsets checks that each modulus is prime and the first prime
// above its power of two, as the draft specifies.
func TestPrimeOffsets(t *testing.T) {
	if testing.Short() {
		t.Skip("primality search is slow")
	}
	for i, off := range primeOffsets {
		p, err := modulus(4 * (i + 1))
		if err != nil {
			t.Fatal(err)
		}
		if !p.ProbablyPrime(20) {
			t.Errorf("2^%d + %d is not prime", 32*(i+1), off)
		}
		c := new(big.Int)
		for d := int64(1); d < off; d++ {
			c.Lsh(big.NewInt(1), uint(32*(i+1))).Add(c, big.NewInt(d))
			if c.ProbablyPrime(1) {
				t.Errorf("2^%d + %d is prime, below the table's offset %d", 32*(i+1), d, off)
			}
		}
	}
}

func FuzzParseShare(f *testing.F) {
	for _, v := range loadShareVectors(f) {
		for _, s := range v.shares {
			f.Add(s)
			f.Add(strings.ToLower(strings.ReplaceAll(s, "-", "")))
		}
	}
	f.Add("")
	f.Add("S")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseShare(in)
		if err != nil {
			return
		}
		out := s.String()
		if got, want := strings.ReplaceAll(out, "-", ""), strings.ToUpper(strings.ReplaceAll(in, "-", "")); got != want {
			t.Fatalf("ParseShare(%q).String() = %q, not the input", in, out)
		}
		again, err := ParseShare(out)
		if err != nil || again.x != s.x || again.threshold != s.threshold || !bytes.Equal(again.y, s.y) {
			t.Fatalf("ParseShare(%q) = %v, %v; want the share parsed from %q", out, again, err, in)
		}
	})
}
