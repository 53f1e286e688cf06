package boltstore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/endymail/endymail/mesh/store"
)

// crashEnv names the store file when the test binary runs as the crash
// helper process.
const crashEnv = "ENDYMAIL_BOLTSTORE_CRASH_HELPER"

const crashAccount = "MACC-CRAS-HTES-T000"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashEnv); path != "" {
		if err := crashHelper(path); err != nil {
			fmt.Fprintln(os.Stderr, "crash helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashEntry is the only valid content of log entry seq in the crash test;
// sizes vary up to 48 KiB so a kill can land inside a multi-page write.
func crashEntry(seq uint64) []byte {
	head := fmt.Appendf(nil, "crash entry %d|", seq)
	return append(head, bytes.Repeat([]byte{byte(seq)}, int(seq*7919%(48<<10)))...)
}

// crashHelper appends to the crash account from four goroutines and prints
// "ack SEQ" for every append that returned nil, until it is killed (or a
// minute passes).
func crashHelper(path string) error {
	s, err := Open(path, Options{Timeout: 10 * time.Second})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errc = make(chan error, 4)
	)
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				head, err := s.Head(ctx, crashAccount)
				if err == nil {
					err = s.Append(ctx, crashAccount, head+1, crashEntry(head+1))
				}
				if errors.Is(err, store.ErrConflict) || ctx.Err() != nil {
					continue
				}
				if err != nil {
					errc <- err
					return
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "ack %d\n", head+1)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errc)
	return <-errc
}

// TestCrash kills a process that appends concurrently, at a different point
// each round, and checks that every acknowledged entry survived intact and
// that the log has no gaps.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts helper processes")
	}
	path := filepath.Join(t.TempDir(), "mesh.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.CreateAccount(t.Context(), store.Account{ID: crashAccount}, [][]byte{crashEntry(0)})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	var acked uint64
	for round := range 5 {
		highest := runAndKill(t, path, 40+round*53)
		if highest < acked {
			t.Fatalf("round %d: highest acknowledged seq %d is below the %d of the round before", round, highest, acked)
		}
		acked = highest
		checkCrashLog(t, path, acked)
	}
}

// runAndKill starts the helper on path, kills it with SIGKILL after it has
// acknowledged n appends, and returns the highest acknowledged seq.
func runAndKill(t *testing.T, path string, n int) uint64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	var highest uint64
	count := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		seq, err := strconv.ParseUint(strings.TrimPrefix(sc.Text(), "ack "), 10, 64)
		if err != nil {
			t.Fatalf("helper printed %q", sc.Text())
		}
		highest = max(highest, seq)
		if count++; count == 1 {
			// The helper holds the file: another process must be told so.
			s, err := Open(path, Options{Timeout: 50 * time.Millisecond})
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, ErrInUse) {
				t.Errorf("Open while the helper runs: got error %v, want %v", err, ErrInUse)
			}
		}
		if count == n {
			cmd.Process.Kill() // SIGKILL: no deferred code, no Close
		}
	}
	err = cmd.Wait()
	if count < n {
		t.Fatalf("helper stopped after %d acknowledgements (%v): %s", count, err, stderr.Bytes())
	}
	return highest
}

// checkCrashLog reopens the store and checks that the log holds every seq up
// to at least acked, each with its only valid content.
func checkCrashLog(t *testing.T, path string, acked uint64) {
	t.Helper()
	s, err := Open(path, Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	head, err := s.Head(t.Context(), crashAccount)
	if err != nil {
		t.Fatal(err)
	}
	if head < acked {
		t.Fatalf("head after kill: got %d, want at least the acknowledged %d", head, acked)
	}
	got, err := s.Entries(t.Context(), crashAccount, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(got)) != head+1 {
		t.Fatalf("entries after kill: got %d, want head+1 = %d", len(got), head+1)
	}
	for seq, e := range got {
		if !bytes.Equal(e, crashEntry(uint64(seq))) {
			t.Fatalf("entry %d after kill: got %.30q (%d bytes), want %.30q", seq, e, len(e), crashEntry(uint64(seq)))
		}
	}
	t.Logf("killed with seq %d acknowledged: head %d, all entries intact", acked, head)
}
