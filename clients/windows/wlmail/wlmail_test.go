package wlmail

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"testing"

	"github.com/endymail/endymail/clients/windows/certstore"
	"github.com/endymail/endymail/clients/windows/winreg"
)

func thumb(t *testing.T, s string) certstore.Thumbprint {
	t.Helper()
	tp, err := certstore.ParseThumbprint(s)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func TestApplyRevert(t *testing.T) {
	root, don, zoe := copyStore(t)
	origDon, origZoe := readFixture(t, don), readFixture(t, zoe)
	sign, enc := thumb(t, thumbA), thumb(t, "00112233445566778899AABBCCDDEEFF00112233")

	changes, err := Apply(root, "DON@wingtiptoys.com", sign, enc)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 {
		t.Fatalf("Apply: got %d changes, want 2", len(changes))
	}
	a, err := Parse(readFixture(t, don))
	if err != nil {
		t.Fatal(err)
	}
	for elem, want := range map[string]string{SigningElement: thumbA, EncryptionElement: "00112233445566778899aabbccddeeff00112233"} {
		if got, _ := a.Value(elem); got != want {
			t.Errorf("%s: got %q, want %q", elem, got, want)
		}
	}
	if !bytes.Equal(readFixture(t, zoe), origZoe) {
		t.Errorf("Apply for don changed zoe's account file")
	}
	again, err := Apply(root, "don@wingtiptoys.com", sign, enc)
	if err != nil || len(again) != 0 {
		t.Errorf("second Apply: got %d changes, %v; want none", len(again), err)
	}
	for i := 0; i < 2; i++ {
		if err := Revert(changes); err != nil {
			t.Fatalf("Revert #%d: %v", i+1, err)
		}
		if !bytes.Equal(readFixture(t, don), origDon) {
			t.Fatalf("Revert #%d did not restore the original bytes", i+1)
		}
	}
}

func TestApplyRevertReplacesExisting(t *testing.T) {
	root, _, zoe := copyStore(t)
	orig := readFixture(t, zoe)
	changes, err := Apply(root, "zoe@example.org", thumb(t, thumbA), thumb(t, thumbA))
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || changes[0].Old == nil {
		t.Fatalf("Apply: got %+v, want 2 changes with old values", changes)
	}
	if err := Revert(changes); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFixture(t, zoe), orig) {
		t.Errorf("Revert did not restore the original bytes")
	}
}

func TestRevertKeepsLaterChange(t *testing.T) {
	root, don, _ := copyStore(t)
	changes, err := Apply(root, "don@wingtiptoys.com", thumb(t, thumbA), certstore.Thumbprint{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := Parse(readFixture(t, don))
	const theirs = "ffffffffffffffffffffffffffffffffffffffff"
	if err := a.SetBinary(SigningElement, theirs); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(don, a.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Revert(changes); !errors.Is(err, ErrChangedSince) {
		t.Fatalf("Revert: got %v, want ErrChangedSince", err)
	}
	a, _ = Parse(readFixture(t, don))
	if got, _ := a.Value(SigningElement); got != theirs {
		t.Errorf("Revert overwrote a later change: got %q", got)
	}
}

func TestApplyNoAccount(t *testing.T) {
	root, _, _ := copyStore(t)
	if _, err := Apply(root, "nobody@example.com", thumb(t, thumbA), thumb(t, thumbA)); !errors.Is(err, ErrNoAccount) {
		t.Errorf("got %v, want ErrNoAccount", err)
	}
}

func TestStoreRoot(t *testing.T) {
	env := map[string]string{"LOCALAPPDATA": `C:\Users\zoe\AppData\Local`}
	getenv := func(k string) string { return env[k] }
	reg := winreg.NewMemory()
	if _, err := StoreRoot(reg, getenv); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("empty registry: got %v, want ErrNotInstalled", err)
	}
	if err := reg.Set(`Software\Microsoft\Windows Mail`, "Store Root", winreg.ExpandStringValue(`%LOCALAPPDATA%\Microsoft\Windows Mail`)); err != nil {
		t.Fatal(err)
	}
	if got, err := StoreRoot(reg, getenv); err != nil || got != `C:\Users\zoe\AppData\Local\Microsoft\Windows Mail` {
		t.Errorf("Windows Mail: got %q, %v", got, err)
	}
	if err := reg.Set(`Software\Microsoft\Windows Live Mail`, "Store Root", winreg.ExpandStringValue(`%LOCALAPPDATA%\Microsoft\Windows Live Mail\%UNSET%\%`)); err != nil {
		t.Fatal(err)
	}
	want := `C:\Users\zoe\AppData\Local\Microsoft\Windows Live Mail\%UNSET%\%`
	if got, err := StoreRoot(reg, getenv); err != nil || got != want {
		t.Errorf("Windows Live Mail: got %q, %v, want %q", got, err, want)
	}
}

func TestAddresses(t *testing.T) {
	root, _, _ := copyStore(t)
	got, err := Addresses(root)
	if err != nil {
		t.Fatal(err)
	}
	// In path order: "Local Folders" sorts before "donhallimap".
	if want := []string{"Zoe@Example.org", "don@wingtiptoys.com"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Addresses: got %q, want %q", got, want)
	}
}
