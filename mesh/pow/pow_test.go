package pow

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

var (
	testKey  = bytes.Repeat([]byte{0x42}, 32)
	testBind = sha256.Sum256([]byte(`{"account":"alice@example.com"}`))
	start    = time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
)

func newTestIssuer(t testing.TB, bits int) (*Issuer, *clock) {
	t.Helper()
	c := &clock{t: start}
	iss, err := NewIssuer(testKey, bits, time.Minute, c.now)
	if err != nil {
		t.Fatal(err)
	}
	return iss, c
}

func solve(t testing.TB, ch Challenge, bind []byte) []byte {
	t.Helper()
	sol, err := Solve(context.Background(), ch.Token, ch.Bits, bind, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sol
}

func TestChallengeVerify(t *testing.T) {
	iss, _ := newTestIssuer(t, 12)
	ch := iss.Challenge("account")
	if ch.Bits != 12 {
		t.Errorf("Challenge.Bits = %d, want 12", ch.Bits)
	}
	if want := start.Add(time.Minute); !ch.Expires.Equal(want) {
		t.Errorf("Challenge.Expires = %v, want %v", ch.Expires, want)
	}
	sol := solve(t, ch, testBind[:])
	sum := sha256.Sum256(append(append([]byte(ch.Token+"\x00"), testBind[:]...), sol...))
	if !leadingZeros(sum[:], 12) {
		t.Fatalf("Solve returned %x, whose hash %x lacks 12 leading zero bits", sol, sum)
	}
	tk, err := iss.Verify("account", ch.Token, testBind[:], sol)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if len(tk.ID) != idSize || !tk.Expires.Equal(ch.Expires) {
		t.Errorf("Ticket = %x, %v; want a %d-byte ID expiring %v", tk.ID, tk.Expires, idSize, ch.Expires)
	}
	tk2, err := iss.Verify("account", ch.Token, testBind[:], sol)
	if err != nil || !bytes.Equal(tk2.ID, tk.ID) {
		t.Errorf("second Verify = %x, %v; want the same ID, for the caller's store to refuse", tk2.ID, err)
	}
	other := iss.Challenge("account")
	tk3, err := iss.Verify("account", other.Token, testBind[:], solve(t, other, testBind[:]))
	if err != nil || bytes.Equal(tk3.ID, tk.ID) {
		t.Errorf("two challenges: IDs %x and %x, err %v; want distinct IDs", tk.ID, tk3.ID, err)
	}
}

func TestVerifyErrors(t *testing.T) {
	iss, clk := newTestIssuer(t, 16)
	ch := iss.Challenge("connect")
	sol := solve(t, ch, testBind[:])
	otherBind := sha256.Sum256([]byte("another request"))
	foreign, err := NewIssuer(bytes.Repeat([]byte{0x43}, 32), 16, time.Minute, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	fch := foreign.Challenge("connect")
	harder, err := NewIssuer(testKey, 17, time.Minute, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := encoding.DecodeString(ch.Token)
	// moved solves the challenge for testBind but not for otherBind (a
	// solution for one bind solves another by chance 2^-16 of the time).
	moved := sol
	for solved(ch.Token, otherBind[:], moved, 16) {
		moved = solveFrom(t, ch, testBind[:], binary.BigEndian.Uint64(moved)+1)
	}

	for _, tc := range []struct {
		name     string
		iss      *Issuer
		purpose  string
		token    string
		bind     []byte
		solution []byte
		want     error
	}{
		{"empty token", iss, "connect", "", testBind[:], sol, ErrMalformed},
		{"not base64url", iss, "connect", "!!!!" + ch.Token[4:], testBind[:], sol, ErrMalformed},
		{"padded base64", iss, "connect", ch.Token + "==", testBind[:], sol, ErrMalformed},
		{"truncated", iss, "connect", ch.Token[:20], testBind[:], sol, ErrMalformed},
		{"too long", iss, "connect", ch.Token + strings.Repeat("A", 200), testBind[:], sol, ErrMalformed},
		{"solution too long", iss, "connect", ch.Token, testBind[:], make([]byte, MaxSolution+1), ErrMalformed},
		{"bad version", iss, "connect", signed(iss, append([]byte{2}, raw[1:len(raw)-macSize]...)), testBind[:], sol, ErrMalformed},
		{"bad purpose length", iss, "connect", signed(iss, append(bytes.Clone(raw[:headerSize-1]), 9, 'x')), testBind[:], sol, ErrMalformed},
		{"flipped id byte", iss, "connect", flip(raw, 12), testBind[:], sol, ErrBadMAC},
		{"flipped bits byte", iss, "connect", flip(raw, 1), testBind[:], sol, ErrBadMAC},
		{"flipped MAC byte", iss, "connect", flip(raw, len(raw)-1), testBind[:], sol, ErrBadMAC},
		{"other issuer's token", iss, "connect", fch.Token, testBind[:], solve(t, fch, testBind[:]), ErrBadMAC},
		{"our token at other issuer", foreign, "connect", ch.Token, testBind[:], sol, ErrBadMAC},
		{"wrong purpose", iss, "account", ch.Token, testBind[:], sol, ErrWrongPurpose},
		{"solution moved to other bind", iss, "connect", ch.Token, otherBind[:], moved, ErrInsufficientWork},
		{"newline in token", iss, "connect", ch.Token[:8] + "\n" + ch.Token[8:], testBind[:], sol, ErrMalformed},
		{"no solution", iss, "connect", ch.Token, testBind[:], nil, ErrInsufficientWork},
		{"difficulty raised", harder, "connect", ch.Token, testBind[:], sol, ErrInsufficientWork},
	} {
		_, err := tc.iss.Verify(tc.purpose, tc.token, tc.bind, tc.solution)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Verify error = %v, want %v", tc.name, err, tc.want)
		}
	}

	if _, err := iss.Verify("connect", ch.Token, testBind[:], sol); err != nil {
		t.Fatalf("Verify before expiry: %v", err)
	}
	clk.t = ch.Expires.Add(-time.Nanosecond)
	if _, err := iss.Verify("connect", ch.Token, testBind[:], sol); err != nil {
		t.Errorf("Verify just before expiry: %v", err)
	}
	clk.t = ch.Expires
	if _, err := iss.Verify("connect", ch.Token, testBind[:], sol); !errors.Is(err, ErrExpired) {
		t.Errorf("Verify at expiry: error = %v, want ErrExpired", err)
	}
}

// solveFrom returns the first solution for ch and bind after n tries.
func solveFrom(t *testing.T, ch Challenge, bind []byte, n uint64) []byte {
	t.Helper()
	for ; ; n++ {
		sol := binary.BigEndian.AppendUint64(nil, n)
		if solved(ch.Token, bind, sol, ch.Bits) {
			return sol
		}
	}
}

// signed returns body with a valid MAC under iss's key, encoded.
func signed(iss *Issuer, body []byte) string {
	return encoding.EncodeToString(append(bytes.Clone(body), iss.mac(body)...))
}

// flip returns raw with byte i inverted, encoded.
func flip(raw []byte, i int) string {
	b := bytes.Clone(raw)
	b[i] ^= 0xff
	return encoding.EncodeToString(b)
}

func TestInsufficientWork(t *testing.T) {
	iss, _ := newTestIssuer(t, 8)
	ch := iss.Challenge("account")
	// Find a solution that fails: most do.
	for n := byte(0); ; n++ {
		sol := []byte{n}
		if solved(ch.Token, testBind[:], sol, 8) {
			continue
		}
		if _, err := iss.Verify("account", ch.Token, testBind[:], sol); !errors.Is(err, ErrInsufficientWork) {
			t.Errorf("Verify of a non-solution: error = %v, want ErrInsufficientWork", err)
		}
		return
	}
}

func TestLeadingZeros(t *testing.T) {
	for _, tc := range []struct {
		b    []byte
		bits int
		want bool
	}{
		{[]byte{0xff}, 0, true},
		{[]byte{0x7f}, 1, true},
		{[]byte{0x80}, 1, false},
		{[]byte{0x00, 0x01}, 15, true},
		{[]byte{0x00, 0x01}, 16, false},
		{[]byte{0x00, 0x00, 0x10}, 19, true},
		{[]byte{0x00, 0x00, 0x10}, 20, false},
	} {
		if got := leadingZeros(tc.b, tc.bits); got != tc.want {
			t.Errorf("leadingZeros(%x, %d) = %v, want %v", tc.b, tc.bits, got, tc.want)
		}
	}
}

func TestNewIssuerErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  []byte
		bits int
		ttl  time.Duration
	}{
		{"short key", make([]byte, 31), 8, time.Minute},
		{"zero bits", testKey, 0, time.Minute},
		{"too many bits", testKey, MaxBits + 1, time.Minute},
		{"zero ttl", testKey, 8, 0},
		{"sub-second ttl", testKey, 8, time.Millisecond},
	} {
		if _, err := NewIssuer(tc.key, tc.bits, tc.ttl, nil); err == nil {
			t.Errorf("%s: NewIssuer succeeded", tc.name)
		}
	}
	key := bytes.Clone(testKey)
	iss, err := NewIssuer(key, 8, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch := iss.Challenge("account")
	key[0] ^= 1 // the issuer must have copied its key
	if _, err := iss.Verify("account", ch.Token, testBind[:], solve(t, ch, testBind[:])); err != nil {
		t.Errorf("Verify after the caller changed its key slice: %v", err)
	}
}

func TestChallengePanicsOnBadPurpose(t *testing.T) {
	iss, _ := newTestIssuer(t, 8)
	for _, p := range []string{"", strings.Repeat("p", MaxPurpose+1)} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Challenge(%d-byte purpose) did not panic", len(p))
				}
			}()
			iss.Challenge(p)
		}()
	}
}

func TestChallengeJSON(t *testing.T) {
	iss, _ := newTestIssuer(t, 8)
	ch := iss.Challenge("account")
	b, err := json.Marshal(ch)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`{"token":%q,"bits":8,"expires":"2026-11-27T07:01:00Z"}`, ch.Token)
	if string(b) != want {
		t.Errorf("json.Marshal(Challenge) = %s, want %s", b, want)
	}
	if strings.ContainsAny(ch.Token, "+/=") {
		t.Errorf("token %q is not unpadded base64url", ch.Token)
	}
}

func TestSolveCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Solve(ctx, "token", 8, nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Solve with a cancelled context: error = %v, want context.Canceled", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int64
	var last uint64
	_, err := Solve(ctx, "token", 200, nil, func(tries uint64) {
		calls.Add(1)
		last = tries
		cancel()
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Solve cancelled from progress: error = %v, want context.Canceled", err)
	}
	if calls.Load() != 1 || last != progressEvery {
		t.Errorf("progress called %d times, last with %d; want once with %d", calls.Load(), last, progressEvery)
	}
	if _, err := Solve(context.Background(), "token", 257, nil, nil); err == nil {
		t.Error("Solve for 257 bits succeeded")
	}
}

func TestParseTokenRoundTrip(t *testing.T) {
	want := token{bits: 20, expires: 1234567890, purpose: "account"}
	copy(want.id[:], "0123456789abcdef")
	got, err := parseToken(want.marshal())
	if err != nil || got != want {
		t.Errorf("parseToken(marshal(%+v)) = %+v, %v", want, got, err)
	}
}

func FuzzParseToken(f *testing.F) {
	iss, _ := newTestIssuer(f, 8)
	for _, p := range []string{"account", "connect", strings.Repeat("p", MaxPurpose)} {
		raw, _ := encoding.DecodeString(iss.Challenge(p).Token)
		f.Add(raw[:len(raw)-macSize])
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := parseToken(b)
		if err != nil {
			return
		}
		if again := tok.marshal(); !bytes.Equal(again, b) {
			t.Fatalf("marshal(parseToken(%x)) = %x", b, again)
		}
	})
}

func FuzzVerify(f *testing.F) {
	iss, _ := newTestIssuer(f, 1)
	ch := iss.Challenge("account")
	f.Add(ch.Token, []byte{0})
	f.Add("", []byte(nil))
	f.Add(ch.Token[:10], []byte{1, 2})
	f.Fuzz(func(t *testing.T, tok string, sol []byte) {
		tk, err := iss.Verify("account", tok, testBind[:], sol)
		if err != nil {
			return
		}
		// Accepted: the token must be canonical, carry the ticket's ID and
		// be solved by sol. (Any token issued under testKey is valid, also
		// one from an earlier run saved in the corpus.)
		raw, derr := encoding.DecodeString(tok)
		if derr != nil || encoding.EncodeToString(raw) != tok || !bytes.Equal(raw[10:10+idSize], tk.ID) {
			t.Fatalf("Verify(%q) accepted a non-canonical token or returned the wrong ID %x", tok, tk.ID)
		}
		if !solved(tok, testBind[:], sol, 1) {
			t.Fatalf("Verify(%q, %x) accepted a non-solution", tok, sol)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	iss, _ := newTestIssuer(b, 8)
	ch := iss.Challenge("account")
	sol := solve(b, ch, testBind[:])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := iss.Verify("account", ch.Token, testBind[:], sol); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHMACOnly is the baseline for BenchmarkVerify: one HMAC-SHA256
// over as many bytes as Verify MACs.
func BenchmarkHMACOnly(b *testing.B) {
	iss, _ := newTestIssuer(b, 8)
	raw, _ := encoding.DecodeString(iss.Challenge("account").Token)
	body := raw[:len(raw)-macSize]
	b.ReportAllocs()
	for b.Loop() {
		m := hmac.New(sha256.New, testKey)
		m.Write(body)
		m.Sum(nil)
	}
}

func BenchmarkSolve(b *testing.B) {
	for _, bits := range []int{16} {
		b.Run(fmt.Sprintf("bits=%d", bits), func(b *testing.B) {
			iss, err := NewIssuer(testKey, bits, time.Minute, nil)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				ch := iss.Challenge("account")
				if _, err := Solve(context.Background(), ch.Token, ch.Bits, testBind[:], nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
