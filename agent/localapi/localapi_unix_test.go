//go:build unix

package localapi

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

func TestConnectWithoutAgent(t *testing.T) {
	home := t.TempDir()
	if _, err := Connect(context.Background(), home); !errors.Is(err, ErrNotRunning) {
		t.Errorf("got %v, want ErrNotRunning", err)
	}
	// A socket left by a killed agent is stale: Listen replaces it.
	os.WriteFile(filepath.Join(home, SocketName), nil, 0o600)
	ln, err := Listen(home, nil)
	if err != nil {
		t.Fatalf("listen over a stale socket: %v", err)
	}
	defer ln.Close()
	if _, err := Listen(home, nil); !errors.Is(err, ErrRunning) {
		t.Errorf("second listen: got %v, want ErrRunning", err)
	}
}

func TestSocketMode(t *testing.T) {
	home := serve(t, &fake{}, nil)
	fi, err := os.Stat(filepath.Join(home, SocketName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode: got %v, want a socket with 0600", fi.Mode())
	}
}

// TestRefusesOtherUID runs a client as user nobody. With the socket's
// normal mode the file system refuses it; with the mode opened up (as a
// mistake or another tool might), the peer-uid check still refuses it,
// while the same client as the agent's own user is answered.
func TestRefusesOtherUID(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a client as another user")
	}
	var mu sync.Mutex
	var refusedUIDs []int
	home := serve(t, &fake{}, func(uid int, err error) {
		mu.Lock()
		refusedUIDs = append(refusedUIDs, uid)
		mu.Unlock()
	})
	bin := copyTestBinary(t)
	if out, err := runAs(bin, home, nil); err != nil {
		t.Fatalf("client as the agent's own user: %v\n%s", err, out)
	}
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534}
	for _, dir := range []string{filepath.Dir(home), home} { // serve made both 0700
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := runAs(bin, home, nobody); err == nil {
		t.Errorf("client as nobody through the 0600 socket was answered: %s", out)
	}
	if err := os.Chmod(filepath.Join(home, SocketName), 0o666); err != nil {
		t.Fatal(err)
	}
	out, err := runAs(bin, home, nobody)
	if err == nil {
		t.Errorf("client as nobody through an opened-up socket was answered: %s", out)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(refusedUIDs) == 0 || refusedUIDs[len(refusedUIDs)-1] != 65534 {
		t.Errorf("refused peers: got %v, want uid 65534 refused (client said %s)", refusedUIDs, out)
	}
}

// copyTestBinary copies the test binary where user nobody can run it.
func copyTestBinary(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "localapi-helper-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	src, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	bin := filepath.Join(dir, "helper")
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return bin
}

func runAs(bin, home string, cred *syscall.Credential) ([]byte, error) {
	cmd := exec.Command(bin)
	cmd.Env = []string{helperEnv + "=" + home}
	cmd.Dir = "/"
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	return cmd.CombinedOutput()
}
