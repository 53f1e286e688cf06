package localapi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/internal/winetest"
)

// helperEnv names the socket a re-executed test binary dials.
const helperEnv = "LOCALAPI_TEST_DIAL"

func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		os.Exit(helperDial(path))
	}
	code := m.Run()
	winetest.Cleanup()
	os.Exit(code)
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
	// Not t.TempDir: Wine cannot remove it. The home has its own parent
	// folder, which TestRefusesOtherUID opens up.
	parent, err := os.MkdirTemp("", "localapi-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	home := filepath.Join(parent, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
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
