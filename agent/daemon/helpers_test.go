package daemon_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/agent/daemon"
	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/mesh/server"
	"github.com/endymail/endymail/mesh/server/servertest"
	"github.com/endymail/endymail/mesh/store/boltstore"
)

// mesh is the real mesh service on loopback that a test can stop and
// start again on the same address and data.
type mesh struct {
	t    *testing.T
	addr string
	data string
	mu   sync.Mutex
	srv  *http.Server
	st   *boltstore.Store
}

func startMesh(t *testing.T) *mesh {
	t.Helper()
	m := &mesh{t: t, addr: "127.0.0.1:0", data: filepath.Join(t.TempDir(), "mesh.db")}
	m.start()
	t.Cleanup(m.stop)
	return m
}

func (m *mesh) URL() string { return "http://" + m.addr }

func (m *mesh) start() {
	m.t.Helper()
	st, err := boltstore.Open(m.data, boltstore.Options{})
	if err != nil {
		m.t.Fatal(err)
	}
	srv := servertest.New(m.t, server.Config{Store: st})
	var ln net.Listener
	for i := 0; ; i++ { // the port of a stopped service may linger a moment
		if ln, err = net.Listen("tcp", m.addr); err == nil || i == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		m.t.Fatal(err)
	}
	m.addr = ln.Addr().String()
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	m.mu.Lock()
	m.srv, m.st = hs, st
	m.mu.Unlock()
}

// stop closes the service and every held long poll.
func (m *mesh) stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.srv != nil {
		m.srv.Close()
		m.st.Close()
		m.srv = nil
	}
}

const alice = "alice@example.com"

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newAdmin makes device A with an account and alice's keys enabled.
func newAdmin(t *testing.T, url string) *agent.Agent {
	t.Helper()
	a, err := agent.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a.Clients = nil
	if _, err := a.Init(ctxT(t), alice, url, "laptop"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Enable(ctxT(t), agent.EnableOptions{Address: alice, Name: "Alice"}); err != nil {
		t.Fatal(err)
	}
	return a
}

// recorder is a client configurator that records what it was given. It
// has an identity for every address in ids.
type recorder struct {
	mu      sync.Mutex
	ids     map[string]bool
	applied map[string]string // address → OpenPGP fingerprint applied
	running bool
	calls   chan string // receives the address of every Apply that changed something
}

var _ clients.Configurator = (*recorder)(nil)

func newRecorder(addrs ...string) *recorder {
	r := &recorder{ids: map[string]bool{}, applied: map[string]string{}, calls: make(chan string, 100)}
	for _, a := range addrs {
		r.ids[a] = true
	}
	return r
}

func (r *recorder) Identities(ctx context.Context) ([]clients.Identity, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []clients.Identity
	for a := range r.ids {
		out = append(out, clients.Identity{Client: "recorder", Address: a, Enabled: r.applied[a] != ""})
	}
	return out, nil
}

func (r *recorder) Apply(ctx context.Context, m clients.Material) (clients.Report, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := m.Validate(); err != nil {
		return clients.Report{}, err
	}
	if !r.ids[m.Address] {
		return clients.Report{}, fmt.Errorf("recorder: %w", clients.ErrNoIdentity)
	}
	if r.running {
		return clients.Report{}, fmt.Errorf("recorder: %w", clients.ErrClientRunning)
	}
	if r.applied[m.Address] == m.OpenPGP.Fingerprint {
		return clients.Report{}, nil
	}
	r.applied[m.Address] = m.OpenPGP.Fingerprint
	r.calls <- m.Address
	return clients.Report{Actions: []string{"configured " + m.Address}}, nil
}

// Revert forgets what Apply recorded for address, following the
// clients.Configurator contract: a no-op, even while running, when nothing
// is recorded.
func (r *recorder) Revert(ctx context.Context, address string) (clients.Report, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.applied[address] == "" {
		return clients.Report{}, nil
	}
	if r.running {
		return clients.Report{}, fmt.Errorf("recorder: %w", clients.ErrClientRunning)
	}
	delete(r.applied, address)
	r.calls <- "reverted " + address
	return clients.Report{Actions: []string{"reverted " + address}}, nil
}

func (r *recorder) set(f func(r *recorder)) {
	r.mu.Lock()
	f(r)
	r.mu.Unlock()
}

// waitApplied waits until the recorder configured addr.
func (r *recorder) waitApplied(t *testing.T, addr string, within time.Duration) time.Time {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case got := <-r.calls:
			if got == addr {
				return time.Now()
			}
		case <-deadline:
			t.Fatalf("%s was not configured within %s", addr, within)
		}
	}
}

// runDaemon runs a daemon for a until the test ends (or stop is called).
func runDaemon(t *testing.T, a *agent.Agent, cfg daemon.Config) (*daemon.Daemon, func()) {
	t.Helper()
	cfg.Agent = a
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if cfg.ThunderbirdRoots == nil {
		cfg.ThunderbirdRoots = []string{}
	}
	cfg.MinBackoff, cfg.MaxBackoff = 50*time.Millisecond, 500*time.Millisecond
	d, err := daemon.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("daemon: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return d, stop
}

// testWriter sends log lines to t.Log (and nowhere once the test ended).
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	if os.Getenv("DAEMON_TEST_LOG") != "" {
		w.t.Logf("%s", p)
	}
	return len(p), nil
}

// connecting is device B asking to join, in the background.
type connecting struct {
	code chan string
	done chan error
}

func startConnect(t *testing.T, b *agent.Agent, url, name string) *connecting {
	c := &connecting{code: make(chan string, 1), done: make(chan error, 1)}
	go func() {
		_, err := b.Connect(ctxT(t), agent.ConnectOptions{Address: alice, Mesh: url, DeviceName: name, Timeout: 60 * time.Second}, func(code string) { c.code <- code })
		c.done <- err
	}()
	return c
}

func (c *connecting) waitCode(t *testing.T) string {
	t.Helper()
	select {
	case code := <-c.code:
		return code
	case err := <-c.done:
		t.Fatalf("connect ended before showing a code: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no code within 30s")
	}
	return ""
}

func (c *connecting) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-c.done:
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("connect did not end within 60s")
	}
}

// newDevice opens a fresh device home with rec as its only client.
func newDevice(t *testing.T, rec *recorder) *agent.Agent {
	t.Helper()
	b, err := agent.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b.Clients = []agent.NamedClient{{Name: "recorder", Configurator: rec}}
	return b
}
