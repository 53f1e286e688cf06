package daemon_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/agent/daemon"
	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/internal/atomicfile"
)

// The re-executed test binary runs a daemon for the home in helperHome
// with a fileClient writing to helperClient; helperBlock makes it block
// in the middle of configuring.
const (
	helperHome   = "DAEMON_TEST_HELPER_HOME"
	helperClient = "DAEMON_TEST_HELPER_CLIENT"
	helperBlock  = "DAEMON_TEST_HELPER_BLOCK"
)

func TestMain(m *testing.M) {
	if home := os.Getenv(helperHome); home != "" {
		os.Exit(runHelper(home))
	}
	os.Exit(m.Run())
}

func runHelper(home string) int {
	a, err := agent.Open(home)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fc := &fileClient{path: os.Getenv(helperClient), block: os.Getenv(helperBlock) != ""}
	a.Clients = []agent.NamedClient{{Name: "file", Configurator: fc}}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	d, err := daemon.New(daemon.Config{Agent: a, Log: log, ThunderbirdRoots: []string{}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := d.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// fileClient is a configurator whose configuration is one file, replaced
// atomically. When block is set it announces that it is applying (a file
// beside the configuration) and never finishes.
type fileClient struct {
	path  string
	block bool
}

func (f *fileClient) Identities(ctx context.Context) ([]clients.Identity, error) {
	return []clients.Identity{{Client: "file", Address: alice}}, nil
}

func (f *fileClient) Apply(ctx context.Context, m clients.Material) (clients.Report, error) {
	want := []byte("configured " + m.Address + " " + m.OpenPGP.Fingerprint + "\n")
	if old, _ := os.ReadFile(f.path); bytes.Equal(old, want) {
		return clients.Report{}, nil
	}
	if f.block {
		os.WriteFile(f.path+".applying", nil, 0o600)
		<-ctx.Done() // killed here
		return clients.Report{}, ctx.Err()
	}
	if err := atomicfile.WriteFile(f.path, want, 0o600); err != nil {
		return clients.Report{}, err
	}
	return clients.Report{Actions: []string{"wrote " + f.path}}, nil
}

func (f *fileClient) Revert(ctx context.Context, address string) (clients.Report, error) {
	return clients.Report{}, errors.ErrUnsupported
}

func startHelper(t *testing.T, home, client string, block bool) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperHome+"="+home, helperClient+"="+client)
	if block {
		cmd.Env = append(cmd.Env, helperBlock+"=1")
	}
	var out bytes.Buffer
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("helper output:\n%s", out.String())
		}
	})
	return cmd
}

// kill -9 of the agent in the middle of configuring a client leaves the
// client's configuration as it was and the state file readable; the next
// start completes the work.
func TestKill9MidConfiguration(t *testing.T) {
	m := startMesh(t)
	a := newAdmin(t, m.URL())
	b := connectB(t, m, a, newRecorder())
	client := filepath.Join(t.TempDir(), "client.conf")
	if err := os.WriteFile(client, []byte("original\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	statePath := filepath.Join(b.Home().Dir(), daemon.StateFile)

	h := startHelper(t, b.Home().Dir(), client, true)
	waitFor(t, "the helper to start configuring", func() bool {
		_, err := os.Stat(client + ".applying")
		return err == nil
	})
	if err := h.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	h.Wait()
	if got, _ := os.ReadFile(client); string(got) != "original\n" {
		t.Errorf("client configuration after kill -9: got %q, want it untouched", got)
	}
	st, err := daemon.ReadState(statePath)
	if err != nil || st.InProgress == nil {
		t.Fatalf("state after kill -9: got %+v, %v; want a readable state saying it was configuring", st, err)
	}

	h = startHelper(t, b.Home().Dir(), client, false)
	waitFor(t, "the next start to complete", func() bool {
		st, err := daemon.ReadState(statePath)
		return err == nil && st.InProgress == nil && len(st.Addresses[alice]) == 1 &&
			st.Addresses[alice][0].Status == daemon.StatusConfigured
	})
	if got, _ := os.ReadFile(client); !bytes.HasPrefix(got, []byte("configured "+alice)) {
		t.Errorf("client configuration after restart: got %q", got)
	}
	h.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- h.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("agent on SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("agent did not stop on SIGTERM")
	}
}
