package openpgp

import (
	"os"
	"strings"
	"testing"
	"time"
)

// carolWant is what UserIDsAt reports for the gpg-made fixture.
var carolWant = []UserID{
	{ID: "Carol <carol@example.net>", Address: "carol@example.net", Revoked: true, Reason: "user ID no longer valid (2026-11-27)"},
	{ID: "Carol <carol@example.org>", Address: "carol@example.org", Revoked: true, Reason: "user ID no longer valid (2026-11-27)"},
	{ID: "Carol <carol@work.example>", Address: "carol@work.example"},
	{ID: "Carol Work <carol@example.net>", Address: "carol@example.net"},
}

// TestUserIDsAtGPGRevocation: the user IDs gpg --quick-revoke-uid revoked
// (testdata/carol-revoked-uid.pub.asc) are reported revoked, with gpg's
// reason; an address with no other user ID is no longer the key's, one
// with another valid user ID still is.
func TestUserIDsAtGPGRevocation(t *testing.T) {
	data, err := os.ReadFile("testdata/carol-revoked-uid.pub.asc")
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePublic(data)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	checkCarol(t, k, now, "2026-11-27")
}

func checkCarol(t *testing.T, k *Key, now time.Time, day string) {
	t.Helper()
	got := k.UserIDsAt(now)
	if len(got) != len(carolWant) {
		t.Fatalf("UserIDsAt: got %+v, want %+v", got, carolWant)
	}
	for i, want := range carolWant {
		want.Reason = strings.Replace(want.Reason, "2026-11-27", day, 1)
		if got[i] != want {
			t.Errorf("UserIDsAt[%d]: got %+v, want %+v", i, got[i], want)
		}
	}
	for addr, want := range map[string]bool{"carol@example.org": false, "Carol@Example.NET": true, "carol@work.example": true} {
		if got := k.HasAddress(addr, now); got != want {
			t.Errorf("HasAddress(%s): got %v, want %v", addr, got, want)
		}
	}
	if len(k.UserIDs()) != len(carolWant) {
		t.Errorf("UserIDs: got %q, want all %d, revoked included", k.UserIDs(), len(carolWant))
	}
}

// TestUserIDsAtLiveGPG makes the same key with the real gpg now, revokes
// the same user IDs with --quick-revoke-uid and reads what it exports.
func TestUserIDsAtLiveGPG(t *testing.T) {
	g := newGPG(t)
	g.must(nil, "--quick-gen-key", "Carol <carol@work.example>", "ed25519", "cert,sign", "never")
	cols := string(g.must(nil, "--with-colons", "--list-keys"))
	var fpr string
	for _, line := range strings.Split(cols, "\n") {
		if f := strings.Split(line, ":"); f[0] == "fpr" && fpr == "" {
			fpr = f[9]
		}
	}
	g.must(nil, "--quick-add-key", fpr, "cv25519", "encr", "never")
	for _, uid := range []string{"Carol <carol@example.org>", "Carol <carol@example.net>", "Carol Work <carol@example.net>"} {
		g.must(nil, "--quick-add-uid", fpr, uid)
	}
	for _, uid := range []string{"Carol <carol@example.org>", "Carol <carol@example.net>"} {
		g.must(nil, "--quick-revoke-uid", fpr, uid)
	}
	k, err := ParsePublic(g.must(nil, "--export", "--armor", fpr))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	checkCarol(t, k, now.Add(time.Hour), now.UTC().Format(time.DateOnly))
}

// TestHasAddressBeforeRevocation: a revocation counts from its own time
// (it is not for a key compromise).
func TestHasAddressBeforeRevocation(t *testing.T) {
	data, err := os.ReadFile("testdata/carol-revoked-uid.pub.asc")
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePublic(data)
	if err != nil {
		t.Fatal(err)
	}
	if before := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC); !k.HasAddress("carol@example.org", before) {
		t.Errorf("HasAddress before the revocation: got false, want true")
	}
}
