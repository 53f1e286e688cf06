// Package storetest is the conformance suite for implementations of
// store.Store: every implementation's tests call [Run], and the suite is the
// executable form of the contracts in package store.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, dir string, lim store.Limits) store.Store {
//			s, err := boltstore.Open(filepath.Join(dir, "mesh.db"), boltstore.Options{Limits: lim})
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// [Bench] holds the shared benchmarks, each run beside a plain-file baseline.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/endymail/endymail/mesh/store"
)

// Opener opens the store kept under dir with the given limits. dir is a fresh
// t.TempDir() per test; an implementation that keeps no files there (a
// database) must still map each dir to its own empty store. Opening the same
// dir again after Close must show everything written before Close. Run closes
// the stores it opens.
type Opener func(t *testing.T, dir string, lim store.Limits) store.Store

// Run runs the conformance suite against the stores that open makes.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		f    func(t *testing.T, h *harness)
	}{
		{"Accounts", testAccounts},
		{"AccountExists", testAccountExists},
		{"AccountInvalid", testAccountInvalid},
		{"AppendSequence", testAppendSequence},
		{"Entries", testEntries},
		{"UnknownAccount", testUnknownAccount},
		{"ConcurrentAppend", testConcurrentAppend},
		{"ConcurrentCreate", testConcurrentCreate},
		{"LargeEntries", testLargeEntries},
		{"Blobs", testBlobs},
		{"Requests", testRequests},
		{"RequestStateMachine", testRequestStateMachine},
		{"PruneRequests", testPruneRequests},
		{"ConcurrentAnswer", testConcurrentAnswer},
		{"Nonces", testNonces},
		{"NonceExpiry", testNonceExpiry},
		{"ConcurrentNonce", testConcurrentNonce},
		{"Addresses", testAddresses},
		{"Usage", testUsage},
		{"Quota", testQuota},
		{"Cancelled", testCancelled},
		{"Reopen", testReopen},
		{"Closed", testClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f(t, &harness{open: open, dir: t.TempDir()})
		})
	}
}

// harness opens and closes the stores of one test.
type harness struct {
	open Opener
	dir  string
}

// store opens the test's store with lim and closes it when the test ends
// unless the test closed it first.
func (h *harness) store(t *testing.T, lim store.Limits) store.Store {
	t.Helper()
	s := h.open(t, h.dir, lim)
	var once sync.Once
	closeFn := func() error {
		var err error
		once.Do(func() { err = s.Close() })
		return err
	}
	t.Cleanup(func() { closeFn() })
	return &closer{Store: s, close: closeFn}
}

// closer makes Close idempotent so tests can close early.
type closer struct {
	store.Store
	close func() error
}

func (c *closer) Close() error { return c.close() }

// Fixed values the tests use.
const (
	acctA = "MACC-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"
	acctB = "MACC-BBBB-BBBB-BBBB-BBBB-BBBB-BBBB"
)

// created is a creation time already truncated to the microsecond.
var created = time.Date(2026, 11, 27, 6, 30, 0, 123456000, time.UTC)

// entry returns a recognisable log entry for seq.
func entry(account string, seq uint64) []byte {
	return fmt.Appendf(nil, "entry %d of %s", seq, account)
}

// entries returns entries 0..n-1 of account.
func entries(account string, n int) [][]byte {
	var out [][]byte
	for i := range n {
		out = append(out, entry(account, uint64(i)))
	}
	return out
}

// newAccount creates account id with handle and n entries, failing t on error.
func newAccount(t *testing.T, s store.Store, id, handle string, n int) {
	t.Helper()
	a := store.Account{ID: id, Handle: handle, Created: created}
	if err := s.CreateAccount(t.Context(), a, entries(id, n)); err != nil {
		t.Fatalf("CreateAccount(%s): %v", id, err)
	}
}

// must fails t when err is not nil.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantErr reports an error unless err wraps target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}

// wantEntries checks that the log of account holds exactly want from seq from.
func wantEntries(t *testing.T, s store.Store, account string, from uint64, want [][]byte) {
	t.Helper()
	got, err := s.Entries(t.Context(), account, from, 0)
	must(t, "Entries", err)
	if len(got) != len(want) {
		t.Fatalf("Entries(%s, %d): got %d entries, want %d", account, from, len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("entry %d of %s: got %.40q, want %.40q", from+uint64(i), account, got[i], want[i])
		}
	}
}

// race runs f from n goroutines at once and returns how many calls
// succeeded. Every failure must wrap loser.
func race(t *testing.T, n int, loser error, f func(i int) error) int {
	t.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		won  int
		errs []error
	)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			err := f(i)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				won++
			} else if !errors.Is(err, loser) {
				errs = append(errs, err)
			}
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		t.Errorf("racing call: got error %v, want nil or %v", err, loser)
	}
	return won
}

// cancelled returns a context that is already done.
func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
