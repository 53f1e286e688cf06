//go:build windows

package dpapi

import (
	"bytes"
	"errors"
	"testing"
)

// TestRoundTrip checks the API use (under Wine in internal/winetest; Wine's
// DPAPI is its own format, so this proves the calls, not Windows' crypto).
func TestRoundTrip(t *testing.T) {
	plain := []byte("device key seed")
	b, err := Protect(plain, []byte("endymail state"), "endymail")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, plain) {
		t.Fatalf("protected blob contains the plaintext")
	}
	got, err := Unprotect(b, []byte("endymail state"))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Unprotect: got %q, %v, want %q", got, err, plain)
	}
	if _, err := Unprotect(b, []byte("other purpose")); err == nil {
		t.Errorf("Unprotect with other entropy: got nil error")
	}
	if _, err := Protect(nil, nil, ""); !errors.Is(err, ErrEmpty) {
		t.Errorf("Protect of empty data: got %v, want ErrEmpty", err)
	}
}
