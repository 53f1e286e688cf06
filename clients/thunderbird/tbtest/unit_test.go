package tbtest

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// Tests that need no Thunderbird.

func TestCopyProfileSkipsLocks(t *testing.T) {
	src := t.TempDir()
	for name, data := range map[string]string{
		"prefs.js": "user_pref(\"a\", 1);\n", "sub/x.db": "x", ".parentlock": "", "MarionetteActivePort": "1234",
	} {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("127.0.0.1:+4242", filepath.Join(src, "lock")); err != nil {
		t.Fatal(err)
	}
	dst := CopyProfile(t, src)
	for name, want := range map[string]bool{
		"prefs.js": true, "sub/x.db": true, ".parentlock": false, "MarionetteActivePort": false, "lock": false,
	} {
		_, err := os.Lstat(filepath.Join(dst, name))
		if got := err == nil; got != want {
			t.Errorf("%s in copy: got %v, want %v", name, got, want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "prefs.js")); string(b) != "user_pref(\"a\", 1);\n" {
		t.Errorf("prefs.js copy: got %q", b)
	}
}

func TestMissingFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "full"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(dir, "empty"), nil, 0o600)
	os.Mkdir(filepath.Join(dir, "folder"), 0o700)
	got := MissingFiles(dir, []string{"full", "empty", "folder", "absent"})
	if want := []string{"empty", "folder", "absent"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestDecodeOutcome(t *testing.T) {
	if v, err := decodeOutcome(json.RawMessage(`{"ok":{"a":1}}`)); err != nil || string(v) != `{"a":1}` {
		t.Errorf("ok: got %s, %v", v, err)
	}
	if v, err := decodeOutcome(json.RawMessage(`{"ok":null}`)); err != nil || string(v) != "null" {
		t.Errorf("ok null: got %s, %v", v, err)
	}
	_, err := decodeOutcome(json.RawMessage(`{"err":{"message":"boom","stack":"@x"}}`))
	var jsErr *JSError
	if !errors.As(err, &jsErr) || jsErr.Message != "boom" || jsErr.Stack != "@x" {
		t.Errorf("err: got %v", err)
	}
	for _, bad := range []string{`{}`, `[1]`, `"x"`} {
		if _, err := decodeOutcome(json.RawMessage(bad)); err == nil {
			t.Errorf("%s: got nil error", bad)
		}
	}
}
