package device

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestKeysAtRest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "home")
	h, err := OpenHome(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Keys(); !errors.Is(err, ErrNoDevice) {
		t.Fatalf("keys of an empty home: got %v, want ErrNoDevice", err)
	}
	k, err := h.CreateKeys("laptop")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.CreateKeys("again"); !errors.Is(err, ErrExists) {
		t.Errorf("second CreateKeys: got %v, want ErrExists", err)
	}
	back, err := h.Keys()
	if err != nil {
		t.Fatal(err)
	}
	if back.ID() != k.ID() || back.Name() != "laptop" || back.SignerID() != k.SignerID() {
		t.Errorf("reloaded keys differ: %s vs %s", back.ID(), k.ID())
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, h.Path(keysFile): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
}

func TestCorruptStateIsAClearError(t *testing.T) {
	h, err := OpenHome(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(h.Path(keysFile), []byte("{not json"), 0o600)
	if _, err := h.Keys(); err == nil || errors.Is(err, ErrNoDevice) {
		t.Errorf("corrupt keys file: got %v, want a corruption error", err)
	}
	os.WriteFile(h.Path(keysFile), []byte(`{"name":"x","sign_seed":"AAAA","hpke":"AAAA"}`), 0o600)
	if _, err := h.Keys(); err == nil {
		t.Error("short seed accepted")
	}
	os.WriteFile(h.Path(accountFile), []byte("garbage"), 0o600)
	if _, err := h.Account(); err == nil || errors.Is(err, ErrNoAccount) {
		t.Errorf("corrupt account file: got %v", err)
	}
}

func TestAccountRoundTrip(t *testing.T) {
	h, _ := OpenHome(t.TempDir())
	if _, err := h.Account(); !errors.Is(err, ErrNoAccount) {
		t.Fatalf("got %v, want ErrNoAccount", err)
	}
	a := &Account{Mesh: "http://127.0.0.1:1", Account: "MABC", Handle: "a@example.com", Pending: &Pending{Request: "R", Code: "C"}}
	if err := h.SaveAccount(a); err != nil {
		t.Fatal(err)
	}
	got, err := h.Account()
	if err != nil || got.Pending == nil || got.Pending.Code != "C" || got.Handle != a.Handle {
		t.Errorf("round trip: %+v %v", got, err)
	}
	fi, _ := os.Stat(h.Path(accountFile))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("account file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestConfigValidatedAndKept(t *testing.T) {
	h, _ := OpenHome(t.TempDir())
	if c, err := h.Config(); err != nil || c.Prefer != "" {
		t.Fatalf("fresh config: %+v %v", c, err)
	}
	if _, err := h.UpdateConfig(func(c *Config) { c.Prefer = "smime" }); err != nil {
		t.Fatal(err)
	}
	if _, err := h.UpdateConfig(func(c *Config) { c.Prefer = "carrier pigeon" }); err == nil {
		t.Error("invalid preference accepted")
	}
	if c, err := h.Config(); err != nil || c.Prefer != "smime" {
		t.Errorf("after a refused update: %+v %v, want smime kept", c, err)
	}
}
