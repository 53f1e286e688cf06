package daemon_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/agent/daemon"
	"github.com/endymail/endymail/agent/localapi"
	"github.com/endymail/endymail/agent/prompt"
	"github.com/endymail/endymail/agent/prompt/prompttest"
)

// A's daemon raises a desktop notification for B's request on a private
// session bus; the notification server clicks "approve"; B's daemon then
// receives the keys and configures B's client without any command.
func TestPromptApprovesAndNewDeviceIsConfigured(t *testing.T) {
	m := startMesh(t)
	a := newAdmin(t, m.URL())
	bus := prompttest.StartBus(t)
	notes := prompttest.StartServer(t, bus, prompt.ActionApprove)
	conn, err := dbus.Connect(bus)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	da, _ := runDaemon(t, a, daemon.Config{Prompter: prompt.NewDBus(conn)})
	rec := newRecorder(alice)
	b := newDevice(t, rec)
	runDaemon(t, b, daemon.Config{})

	c := startConnect(t, b, m.URL(), "phone")
	code := c.waitCode(t)
	c.wait(t)
	rec.waitApplied(t, alice, 20*time.Second)

	shown := notes.Notifications()
	if len(shown) != 1 || !strings.Contains(shown[0].Body, code) || !strings.Contains(shown[0].Body, `"phone"`) {
		t.Errorf("notifications: got %+v, want one showing %q and code %s", shown, "phone", code)
	}
	devs, err := a.Devices(ctxT(t))
	if err != nil || len(devs) != 2 {
		t.Errorf("A's devices: got %d, %v; want 2", len(devs), err)
	}
	if ps := da.State().Prompts; len(ps) != 1 || ps[0].Answer != "approved" || ps[0].Code != code {
		t.Errorf("A's prompt record: got %+v, want approved with code %s", ps, code)
	}
}

// At login the agent can start before the desktop's notification service:
// the first prompt fails to show, and the daemon raises it again once the
// service is there, instead of leaving the request to the CLI alone.
func TestPromptRaisedAgainAfterItFailedToShow(t *testing.T) {
	m := startMesh(t)
	a := newAdmin(t, m.URL())
	bus := prompttest.StartBus(t)
	conn, err := dbus.Connect(bus)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	da, _ := runDaemon(t, a, daemon.Config{Prompter: prompt.NewDBus(conn), PromptRetry: 300 * time.Millisecond})
	rec := newRecorder(alice)
	b := newDevice(t, rec)
	runDaemon(t, b, daemon.Config{})

	c := startConnect(t, b, m.URL(), "laptop")
	code := c.waitCode(t)
	deadline := time.Now().Add(10 * time.Second)
	for !promptAnswerHas(da, "failed, will ask again") {
		if time.Now().After(deadline) {
			t.Fatalf("A's prompt record: got %+v, want a failure to show that will be retried", da.State().Prompts)
		}
		time.Sleep(20 * time.Millisecond)
	}
	notes := prompttest.StartServer(t, bus, prompt.ActionApprove)
	c.wait(t)
	rec.waitApplied(t, alice, 20*time.Second)
	if shown := notes.Notifications(); len(shown) != 1 || !strings.Contains(shown[0].Body, code) {
		t.Errorf("notifications: got %+v, want one showing code %s", shown, code)
	}
	if ps := da.State().Prompts; len(ps) != 1 || ps[0].Answer != "approved" {
		t.Errorf("A's prompt record: got %+v, want one, approved", ps)
	}
}

func promptAnswerHas(d *daemon.Daemon, s string) bool {
	for _, p := range d.State().Prompts {
		if strings.Contains(p.Answer, s) {
			return true
		}
	}
	return false
}

// B connects, A approves through its running agent's local API, and B's
// daemon configures B's client. The state file says what was done.
func TestApproveThroughLocalAPIConfiguresNewDevice(t *testing.T) {
	m := startMesh(t)
	a := newAdmin(t, m.URL())
	approveVia := serveAPI(t, a)
	rec := newRecorder(alice)
	b := newDevice(t, rec)
	db, _ := runDaemon(t, b, daemon.Config{})

	c := startConnect(t, b, m.URL(), "phone")
	code := c.waitCode(t)
	start := time.Now()
	if _, err := approveVia.Approve(ctxT(t), agent.ApproveOptions{Code: code}); err != nil {
		t.Fatal(err)
	}
	done := rec.waitApplied(t, alice, 20*time.Second)
	t.Logf("approval → B configured: %s", done.Sub(start))
	c.wait(t)
	waitFor(t, "B's state file to record the configuration", func() bool {
		st, err := daemon.ReadState(filepath.Join(b.Home().Dir(), daemon.StateFile))
		return err == nil && len(st.Addresses[alice]) == 1 && st.Addresses[alice][0].Status == daemon.StatusConfigured
	})
	if st := db.State(); st.Error != "" {
		t.Errorf("B's state: got error %q", st.Error)
	}
}

// serveAPI runs A's daemon with its local API and returns a client of it.
func serveAPI(t *testing.T, a *agent.Agent) *localapi.Client {
	t.Helper()
	d, _ := runDaemon(t, a, daemon.Config{})
	ln, err := localapi.Listen(a.Home().Dir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go localapi.Serve(ctx, ln, localapi.FromDaemon(d, a))
	t.Cleanup(cancel)
	c, err := localapi.Connect(ctxT(t), a.Home().Dir())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// connectB makes device B a member of A's account (approved directly).
func connectB(t *testing.T, m *mesh, a *agent.Agent, rec *recorder) *agent.Agent {
	t.Helper()
	b := newDevice(t, rec)
	c := startConnect(t, b, m.URL(), "phone")
	code := c.waitCode(t)
	if _, err := a.Approve(ctxT(t), agent.ApproveOptions{Code: code}); err != nil {
		t.Fatal(err)
	}
	c.wait(t)
	return b
}

// An address disabled on A is taken out of B's clients by B's agent: the
// unpublish in the log reaches B through its long poll.
func TestAddressDisabledElsewhereIsReverted(t *testing.T) {
	m := startMesh(t)
	a := newAdmin(t, m.URL())
	rec := newRecorder(alice)
	b := connectB(t, m, a, rec)
	runDaemon(t, b, daemon.Config{})
	rec.waitApplied(t, alice, 20*time.Second)
	if _, err := a.Disable(ctxT(t), alice, false); err != nil {
		t.Fatal(err)
	}
	rec.waitApplied(t, "reverted "+alice, 20*time.Second)
	if _, err := a.Enable(ctxT(t), agent.EnableOptions{Address: alice}); err != nil {
		t.Fatal(err)
	}
	rec.waitApplied(t, alice, 20*time.Second)
}

// The agent restarts and the service restarts or is unreachable for a
// while: each time the agent recovers and converges.
func TestRecoversFromRestartsAndOutages(t *testing.T) {
	m := startMesh(t)
	a := newAdmin(t, m.URL())
	rec := newRecorder(alice, "work@example.com", "home@example.com")
	b := connectB(t, m, a, rec)

	// Agent restart: what was enabled while it was stopped is applied at
	// the next start.
	_, stop := runDaemon(t, b, daemon.Config{})
	rec.waitApplied(t, alice, 20*time.Second)
	stop()
	if _, err := a.Enable(ctxT(t), agent.EnableOptions{Address: "work@example.com"}); err != nil {
		t.Fatal(err)
	}
	db, _ := runDaemon(t, b, daemon.Config{})
	rec.waitApplied(t, "work@example.com", 20*time.Second)

	// Service down: a pass fails and is retried with backoff; once the
	// service is back, the agent converges on what changed.
	m.stop()
	db.Kick("test")
	waitFor(t, "the failure to be recorded", func() bool { return db.State().Error != "" })
	time.Sleep(time.Second) // several retries against the dead service
	m.start()
	waitFor(t, "recovery", func() bool { return db.State().Error == "" })
	if _, err := a.Enable(ctxT(t), agent.EnableOptions{Address: "home@example.com"}); err != nil {
		t.Fatal(err)
	}
	rec.waitApplied(t, "home@example.com", 20*time.Second)
}

// A client that runs is applied to as soon as it closes, and a new
// identity is configured without being asked: the daemon learns both from
// the client's files (fsnotify on a Thunderbird profile folder), not from
// a timer.
func TestRunningClientAndNewIdentity(t *testing.T) {
	m := startMesh(t)
	a := newAdmin(t, m.URL())
	rec := newRecorder()
	b := connectB(t, m, a, rec)
	root := t.TempDir()
	profile := filepath.Join(root, "p.default")
	os.Mkdir(profile, 0o700)
	os.WriteFile(filepath.Join(root, "profiles.ini"), []byte("[Profile0]\nName=default\nIsRelative=1\nPath=p.default\nDefault=1\n"), 0o600)
	os.Symlink("127.0.0.1:+1", filepath.Join(profile, "lock"))
	db, _ := runDaemon(t, b, daemon.Config{ThunderbirdRoots: []string{root}})
	waitFor(t, "a first pass", func() bool { return !db.State().LastRun.IsZero() })
	if st := db.State(); st.Addresses[alice][0].Status != daemon.StatusNoIdentity {
		t.Fatalf("before the identity exists: got %+v", st.Addresses)
	}
	// The user adds the identity while the client runs ...
	rec.set(func(r *recorder) { r.ids[alice], r.running = true, true })
	os.WriteFile(filepath.Join(profile, "prefs.js"), []byte("// new identity\n"), 0o600)
	waitFor(t, "the running client to be noticed", func() bool {
		cs := db.State().Addresses[alice]
		return len(cs) == 1 && cs[0].Status == daemon.StatusRunning
	})
	// ... then closes it: the lock goes.
	rec.set(func(r *recorder) { r.running = false })
	os.Remove(filepath.Join(profile, "lock"))
	rec.waitApplied(t, alice, 20*time.Second)
	waitFor(t, "the pass to be recorded", func() bool { return db.State().Addresses[alice][0].Status == daemon.StatusConfigured })
	if st := db.State(); !strings.HasPrefix(st.Reason, "client files changed") {
		t.Errorf("after the client closed: woken by %q, want the client's files", st.Reason)
	}
}

// The user interrupts `endymail connect` after the code is shown: B's
// agent waits for the answer itself, and once A approves it completes the
// connection and configures B's client.
func TestAgentCompletesInterruptedConnect(t *testing.T) {
	m := startMesh(t)
	a := newAdmin(t, m.URL())
	rec := newRecorder(alice)
	b := newDevice(t, rec)
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		_, err := b.Connect(ctx, agent.ConnectOptions{Address: alice, Mesh: m.URL(), DeviceName: "phone", Timeout: time.Minute}, func(c string) { code <- c; cancel() })
		done <- err
	}()
	got := <-code
	if err := <-done; err == nil {
		t.Fatal("interrupted connect: got no error")
	}
	runDaemon(t, b, daemon.Config{})
	time.Sleep(200 * time.Millisecond) // B's agent is waiting for the answer
	if _, err := a.Approve(ctxT(t), agent.ApproveOptions{Code: got}); err != nil {
		t.Fatal(err)
	}
	rec.waitApplied(t, alice, 20*time.Second)
	if st, err := b.Status(ctxT(t)); err != nil || st.Waiting != "" || st.Devices != 2 {
		t.Errorf("B after its agent completed the connection: got %+v, %v", st, err)
	}
}
