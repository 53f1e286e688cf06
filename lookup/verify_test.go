package lookup

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// TestCheckOpenPGPRevokedUserID: testdata/carol-revoked-uid.pub.asc is a key
// whose user IDs for carol@example.org (its only one) and carol@example.net
// (one of two) the real gpg revoked. The key is refused for the first
// address with the reason, and accepted for the others.
func TestCheckOpenPGPRevokedUserID(t *testing.T) {
	data, err := os.ReadFile("testdata/carol-revoked-uid.pub.asc")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err = checkOpenPGP(data, "carol@example.org", now)
	if !errors.Is(err, ErrRevokedUserID) {
		t.Fatalf("checkOpenPGP for the revoked address: got %v, want ErrRevokedUserID", err)
	}
	for _, want := range []string{"D6DB4767370741FF4DEC2E276014C9817E23F0DD", `"Carol <carol@example.org>"`, "user ID no longer valid (2026-11-27)", "carol@example.org"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not name %s", err, want)
		}
	}
	for _, addr := range []string{"Carol@Example.NET", "carol@work.example"} {
		if k, err := checkOpenPGP(data, addr, now); err != nil || k.Fingerprint() != "D6DB4767370741FF4DEC2E276014C9817E23F0DD" {
			t.Errorf("checkOpenPGP for %s (a live user ID): got %v, %v; want the key", addr, k, err)
		}
	}
	if _, err := checkOpenPGP(data, "dave@example.org", now); !errors.Is(err, ErrWrongUserID) {
		t.Errorf("checkOpenPGP for an address the key never had: got %v, want ErrWrongUserID", err)
	}
}
