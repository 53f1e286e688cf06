package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/mesh/client"
	"github.com/endymail/endymail/mesh/proto"
)

// buildBinary builds the real endymail binary once per test run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "endymail-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "endymail")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// meshProcess is `endymail mesh serve` running as a real process.
type meshProcess struct {
	cmd *exec.Cmd
	url string
}

func startMeshProcess(t *testing.T, dataDir, listen string) *meshProcess {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "mesh", "serve", "--listen", listen, "--data", dataDir, "--pow-bits", "4", "--log-level", "warn")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("mesh serve printed no address: %v", err)
	}
	return &meshProcess{cmd: cmd, url: strings.TrimPrefix(strings.TrimSpace(line), "listening on ")}
}

// TestMeshSurvivesKill9 kills the real service with SIGKILL while several
// devices append concurrently, restarts it on the same data, and checks that
// every acknowledged entry is there and every log verifies.
func TestMeshSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real service; not in -short")
	}
	data := t.TempDir()
	m := startMeshProcess(t, data, "127.0.0.1:0")
	listen := strings.TrimPrefix(m.url, "http://")
	const devices = 4
	agents := make([]*agent.Agent, devices)
	for i := range agents {
		a, err := agent.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Init(context.Background(), fmt.Sprintf("user%d@example.com", i), m.url, "d"); err != nil {
			t.Fatal(err)
		}
		agents[i] = a
	}
	acked := make([]uint64, devices) // highest acknowledged bundle version per account
	for round := range 3 {
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for i, a := range agents {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					ref, err := a.PutBundle(context.Background(), "b", []byte(fmt.Sprint(round, i)))
					if err != nil {
						return // the service died under us: expected
					}
					acked[i] = ref.Version
				}
			})
		}
		time.Sleep(700 * time.Millisecond)
		m.cmd.Process.Signal(syscall.SIGKILL)
		m.cmd.Wait()
		close(stop)
		wg.Wait()
		m = startMeshProcess(t, data, listen)
		checkAcked(t, round, m.url, agents, acked)
	}
}

func checkAcked(t *testing.T, round int, url string, agents []*agent.Agent, acked []uint64) {
	t.Helper()
	mc, err := client.New(url)
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for i, a := range agents {
		st, err := a.Status(context.Background())
		if err != nil || st.SyncError != "" {
			t.Fatalf("round %d device %d: status %v %s", round, i, err, st.SyncError)
		}
		head, log, err := mc.Log(context.Background(), st.Account, 0)
		if err != nil {
			t.Fatal(err)
		}
		vs, err := proto.Replay(log)
		if err != nil {
			t.Errorf("round %d account %d: log does not verify after kill -9: %v", round, i, err)
			continue
		}
		if vs.Seq != head {
			t.Errorf("round %d account %d: head %d but entries to %d", round, i, head, vs.Seq)
		}
		if b := vs.Bundles["b"]; acked[i] > 0 && (b == nil || b.Version < acked[i]) {
			t.Errorf("round %d account %d: acknowledged bundle version %d missing (have %+v)", round, i, acked[i], b)
		}
		if acked[i] > 0 {
			if _, err := a.GetBundle(context.Background(), "b"); err != nil {
				t.Errorf("round %d account %d: latest bundle unreadable: %v", round, i, err)
			}
		}
		total += acked[i]
	}
	if total == 0 {
		t.Errorf("round %d: no append was acknowledged before the kill; the test proved nothing", round)
	}
}
