package localapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/clients"
)

// helperEnv names the socket a re-executed test binary dials.
const helperEnv = "LOCALAPI_TEST_DIAL"

func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		os.Exit(helperDial(path))
	}
	os.Exit(m.Run())
}

// helperDial is the re-executed client: it asks for the status and exits 0
// only when the agent answered.
func helperDial(home string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Connect(ctx, home)
	if err != nil {
		fmt.Println("connect:", err)
		return 3
	}
	if _, err := c.Status(ctx); err != nil {
		fmt.Println("status:", err)
		return 4
	}
	fmt.Println("answered")
	return 0
}

// fake is a Backend with canned answers.
type fake struct{ approved []agent.ApproveOptions }

func (f *fake) Status(ctx context.Context) (*Status, error) {
	return &Status{Agent: &agent.Status{Home: "h", Handle: "a@example.com"}}, nil
}
func (f *fake) Pending(ctx context.Context) ([]agent.PendingRequest, error) {
	return []agent.PendingRequest{{ID: "R1", Name: "phone", Code: "AAAA-BBBB"}}, nil
}
func (f *fake) Approve(ctx context.Context, opt agent.ApproveOptions) (*agent.PendingRequest, error) {
	if opt.Code != "AAAA-BBBB" {
		return nil, fmt.Errorf("%w: code %s", agent.ErrNoMatch, opt.Code)
	}
	f.approved = append(f.approved, opt)
	return &agent.PendingRequest{ID: "R1", Name: "phone"}, nil
}
func (f *fake) Deny(ctx context.Context, id string) error { return agent.ErrNotAdmin }
func (f *fake) Configure(ctx context.Context) (map[string][]agent.ClientResult, error) {
	return map[string][]agent.ClientResult{"a@example.com": {
		{Client: "thunderbird", Err: fmt.Errorf("profile p: %w", clients.ErrClientRunning)},
		{Client: "gnupg", Report: clients.Report{Actions: []string{"imported key"}}},
	}}, nil
}

// serve runs the API for b on a socket in a new home.
func serve(t *testing.T, b Backend, refused func(int, error)) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("no local API socket on windows yet")
	}
	home := t.TempDir()
	ln, err := Listen(home, refused)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, b) }()
	t.Cleanup(func() { cancel(); <-done })
	return home
}

func TestRoundTripAndErrors(t *testing.T) {
	f := &fake{}
	home := serve(t, f, nil)
	ctx := context.Background()
	c, err := Connect(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(ctx)
	if err != nil || st.Agent.Handle != "a@example.com" {
		t.Fatalf("status: got %+v, %v", st, err)
	}
	if _, err := c.Approve(ctx, agent.ApproveOptions{Code: "ZZZZ"}); !errors.Is(err, agent.ErrNoMatch) {
		t.Errorf("approve with a wrong code: got %v, want agent.ErrNoMatch", err)
	}
	if pr, err := c.Approve(ctx, agent.ApproveOptions{Code: "AAAA-BBBB", Admin: true}); err != nil || pr.Name != "phone" || len(f.approved) != 1 || !f.approved[0].Admin {
		t.Errorf("approve: got %+v, %v, backend saw %+v", pr, err, f.approved)
	}
	if err := c.Deny(ctx, "R1"); !errors.Is(err, agent.ErrNotAdmin) {
		t.Errorf("deny: got %v, want agent.ErrNotAdmin", err)
	}
	all, err := c.Configure(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rs := all["a@example.com"]
	if len(rs) != 2 || !errors.Is(rs[0].Err, clients.ErrClientRunning) || rs[1].Err != nil || rs[1].Report.Actions[0] != "imported key" {
		t.Errorf("configure: got %+v, want thunderbird running and gnupg changed", rs)
	}
}

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
	for _, dir := range []string{filepath.Dir(home), home} { // t.TempDir makes 0700 folders
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
