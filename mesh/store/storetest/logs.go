package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/endymail/endymail/mesh/store"
)

func testAccounts(t *testing.T, h *harness) {
	s := h.store(t, store.Limits{})
	ctx := t.Context()
	newAccount(t, s, acctA, "alice@example.com", 3)
	newAccount(t, s, acctB, "", 1)

	a, err := s.Account(ctx, acctA)
	must(t, "Account", err)
	if a.ID != acctA || a.Handle != "alice@example.com" || !a.Created.Equal(created) {
		t.Errorf("Account: got %+v, want ID %s, handle alice@example.com, created %v", a, acctA, created)
	}
	if a.Created.Location() != time.UTC {
		t.Errorf("Account: created in %v, want UTC", a.Created.Location())
	}
	a, err = s.AccountByHandle(ctx, "alice@example.com")
	must(t, "AccountByHandle", err)
	if a.ID != acctA {
		t.Errorf("AccountByHandle: got account %s, want %s", a.ID, acctA)
	}
	_, err = s.AccountByHandle(ctx, "ALICE@example.com")
	wantErr(t, "AccountByHandle with other case", err, store.ErrNotFound)
	_, err = s.AccountByHandle(ctx, "")
	wantErr(t, "AccountByHandle(\"\")", err, store.ErrNotFound)
	_, err = s.Account(ctx, "MACC-NONE")
	wantErr(t, "Account(unknown)", err, store.ErrNotFound)

	head, err := s.Head(ctx, acctA)
	must(t, "Head", err)
	if head != 2 {
		t.Errorf("Head after 3 genesis entries: got %d, want 2", head)
	}
	wantEntries(t, s, acctA, 0, entries(acctA, 3))
	wantEntries(t, s, acctB, 0, entries(acctB, 1))
}

func testAccountExists(t *testing.T, h *harness) {
	s := h.store(t, store.Limits{})
	ctx := t.Context()
	newAccount(t, s, acctA, "alice@example.com", 1)
	err := s.CreateAccount(ctx, store.Account{ID: acctA, Handle: "other@example.com"}, entries(acctA, 2))
	wantErr(t, "CreateAccount with a taken ID", err, store.ErrExists)
	err = s.CreateAccount(ctx, store.Account{ID: acctB, Handle: "alice@example.com"}, entries(acctB, 1))
	wantErr(t, "CreateAccount with a taken handle", err, store.ErrExists)
	// Neither failed call may leave anything behind.
	_, err = s.Account(ctx, acctB)
	wantErr(t, "Account after failed create", err, store.ErrNotFound)
	_, err = s.AccountByHandle(ctx, "other@example.com")
	wantErr(t, "AccountByHandle after failed create", err, store.ErrNotFound)
	wantEntries(t, s, acctA, 0, entries(acctA, 1))
	// Accounts without a handle do not collide with each other.
	newAccount(t, s, acctB, "", 1)
	newAccount(t, s, "MACC-CCCC", "", 1)
}

func testAccountInvalid(t *testing.T, h *harness) {
	s := h.store(t, store.Limits{})
	ctx := t.Context()
	err := s.CreateAccount(ctx, store.Account{ID: "", Handle: "x@example.com"}, entries("x", 1))
	wantErr(t, "CreateAccount with empty ID", err, store.ErrInvalid)
	err = s.CreateAccount(ctx, store.Account{ID: acctA}, nil)
	wantErr(t, "CreateAccount without entries", err, store.ErrInvalid)
	_, err = s.Account(ctx, acctA)
	wantErr(t, "Account after invalid create", err, store.ErrNotFound)
}

func testAppendSequence(t *testing.T, h *harness) {
	s := h.store(t, store.Limits{})
	ctx := t.Context()
	newAccount(t, s, acctA, "", 1)
	must(t, "Append(1)", s.Append(ctx, acctA, 1, entry(acctA, 1)))
	for _, seq := range []uint64{0, 1, 3, 100, math.MaxUint64} {
		err := s.Append(ctx, acctA, seq, []byte("bad"))
		wantErr(t, fmt.Sprintf("Append(%d) with head 1", seq), err, store.ErrConflict)
	}
	must(t, "Append(2)", s.Append(ctx, acctA, 2, entry(acctA, 2)))
	must(t, "Append(3) empty entry", s.Append(ctx, acctA, 3, []byte{}))
	head, err := s.Head(ctx, acctA)
	must(t, "Head", err)
	if head != 3 {
		t.Errorf("Head: got %d, want 3", head)
	}
	wantEntries(t, s, acctA, 0, [][]byte{entry(acctA, 0), entry(acctA, 1), entry(acctA, 2), {}})
}

func testEntries(t *testing.T, h *harness) {
	s := h.store(t, store.Limits{})
	ctx := t.Context()
	newAccount(t, s, acctA, "", 10)
	newAccount(t, s, acctB, "", 2)
	all := entries(acctA, 10)
	for _, c := range []struct {
		from  uint64
		limit int
		want  [][]byte
	}{
		{0, 0, all},
		{0, -1, all},
		{0, 3, all[:3]},
		{4, 3, all[4:7]},
		{8, 5, all[8:]},
		{9, 1, all[9:]},
		{10, 5, nil},
		{math.MaxUint64, 1, nil},
	} {
		got, err := s.Entries(ctx, acctA, c.from, c.limit)
		must(t, "Entries", err)
		if len(got) != len(c.want) {
			t.Errorf("Entries(from %d, limit %d): got %d entries, want %d", c.from, c.limit, len(got), len(c.want))
			continue
		}
		for i := range got {
			if !bytes.Equal(got[i], c.want[i]) {
				t.Errorf("Entries(from %d, limit %d)[%d]: got %q, want %q", c.from, c.limit, i, got[i], c.want[i])
			}
		}
	}
	// Returned slices belong to the caller.
	got, err := s.Entries(ctx, acctB, 0, 0)
	must(t, "Entries", err)
	got[0][0] ^= 0xff
	wantEntries(t, s, acctB, 0, entries(acctB, 2))
}

func testUnknownAccount(t *testing.T, h *harness) {
	s := h.store(t, store.Limits{})
	ctx := t.Context()
	newAccount(t, s, acctA, "", 1)
	const unknown = "MACC-NONE"
	wantErr(t, "Append to unknown account", s.Append(ctx, unknown, 0, []byte("x")), store.ErrNotFound)
	wantErr(t, "Append(1) to unknown account", s.Append(ctx, unknown, 1, []byte("x")), store.ErrNotFound)
	_, err := s.Entries(ctx, unknown, 0, 0)
	wantErr(t, "Entries of unknown account", err, store.ErrNotFound)
	_, err = s.Head(ctx, unknown)
	wantErr(t, "Head of unknown account", err, store.ErrNotFound)
	_, err = s.Usage(ctx, unknown)
	wantErr(t, "Usage of unknown account", err, store.ErrNotFound)
	wantErr(t, "PutBlob to unknown account", s.PutBlob(ctx, unknown, "k", []byte("x")), store.ErrNotFound)
	_, err = s.Requests(ctx, unknown)
	wantErr(t, "Requests of unknown account", err, store.ErrNotFound)
	r := store.Request{ID: "r1", Account: unknown, Created: created, Expires: created.Add(time.Hour)}
	wantErr(t, "PutRequest to unknown account", s.PutRequest(ctx, r), store.ErrNotFound)
	wantErr(t, "Publish to unknown account", s.Publish(ctx, "x@example.com", unknown), store.ErrNotFound)
}

func testConcurrentAppend(t *testing.T, h *harness) {
	s := h.store(t, store.Limits{})
	newAccount(t, s, acctA, "", 1)
	AppendRace(t, acctA, 48, s)
}

// AppendRace appends to account, whose log must hold one entry, from 8
// goroutines spread over stores (several instances sharing one database, or
// just one store) until its head is target. It checks that exactly one append
// was acknowledged for each seq and that the log holds exactly the
// acknowledged entries.
func AppendRace(t *testing.T, account string, target uint64, stores ...store.Store) {
	t.Helper()
	var (
		mu  sync.Mutex
		won = map[uint64][]byte{}
		wg  sync.WaitGroup
	)
	for g := range 8 {
		s := stores[g%len(stores)]
		wg.Go(func() {
			for {
				head, err := s.Head(t.Context(), account)
				if err != nil || head >= target {
					if err != nil {
						t.Errorf("Head: %v", err)
					}
					return
				}
				e := fmt.Appendf(nil, "writer %d seq %d", g, head+1)
				err = s.Append(t.Context(), account, head+1, e)
				if errors.Is(err, store.ErrConflict) {
					continue
				}
				if err != nil {
					t.Errorf("Append(%d): %v", head+1, err)
					return
				}
				mu.Lock()
				if prev, ok := won[head+1]; ok {
					t.Errorf("seq %d acknowledged twice: %q and %q", head+1, prev, e)
				}
				won[head+1] = e
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	var want [][]byte
	for seq := uint64(1); seq <= target; seq++ {
		if won[seq] == nil {
			t.Fatalf("seq %d: no append was acknowledged", seq)
		}
		want = append(want, won[seq])
	}
	wantEntries(t, stores[0], account, 1, want)
}

func testConcurrentCreate(t *testing.T, h *harness) {
	s := h.store(t, store.Limits{})
	won := race(t, 8, store.ErrExists, func(i int) error {
		a := store.Account{ID: acctA, Handle: fmt.Sprintf("h%d@example.com", i), Created: created}
		return s.CreateAccount(t.Context(), a, [][]byte{fmt.Appendf(nil, "genesis %d", i)})
	})
	if won != 1 {
		t.Errorf("concurrent CreateAccount of one ID: %d succeeded, want 1", won)
	}
	won = race(t, 8, store.ErrExists, func(i int) error {
		a := store.Account{ID: fmt.Sprintf("MACC-%d", i), Handle: "same@example.com", Created: created}
		return s.CreateAccount(t.Context(), a, entries(a.ID, 1))
	})
	if won != 1 {
		t.Errorf("concurrent CreateAccount of one handle: %d succeeded, want 1", won)
	}
}

func testLargeEntries(t *testing.T, h *harness) {
	s := h.store(t, store.Limits{})
	ctx := t.Context()
	big := func(n int, b byte) []byte { return bytes.Repeat([]byte{b, b + 1, b + 2}, n/3) }
	genesis := big(3<<20, 1)
	newer := big(6<<20, 7)
	must(t, "CreateAccount", s.CreateAccount(ctx, store.Account{ID: acctA, Created: created}, [][]byte{genesis}))
	must(t, "Append large", s.Append(ctx, acctA, 1, newer))
	must(t, "PutBlob large", s.PutBlob(ctx, acctA, "bundle", newer))
	wantEntries(t, s, acctA, 0, [][]byte{genesis, newer})
	got, err := s.Blob(ctx, acctA, "bundle")
	must(t, "Blob", err)
	if !bytes.Equal(got, newer) {
		t.Errorf("large blob: got %d bytes, want %d identical bytes", len(got), len(newer))
	}
}
