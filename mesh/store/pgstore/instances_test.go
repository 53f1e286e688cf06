package pgstore

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/endymail/endymail/mesh/store"
	"github.com/endymail/endymail/mesh/store/pgstore/pgtest"
)

// TestInstances runs several service instances (each its own Store and pool,
// all opened at once, so their migrations race) against one database and
// appends through all of them concurrently: exactly one append may win each
// seq and the log may have no gaps.
func TestInstances(t *testing.T) {
	dsn := pgtest.Schema(t, pgtest.Start(t), "instances")
	const instances, target = 4, 40
	stores := make([]*Store, instances)
	errs := make([]error, instances)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: Open: %v", i, err)
		}
		defer stores[i].Close()
	}
	const id = "MACC-INST"
	err := stores[0].CreateAccount(t.Context(), store.Account{ID: id, Created: time.Now()}, [][]byte{[]byte("genesis")})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	won := map[uint64]string{}
	for i, s := range stores {
		for g := range 2 {
			wg.Go(func() {
				for {
					head, err := s.Head(t.Context(), id)
					if err != nil || head >= target {
						return
					}
					e := fmt.Sprintf("instance %d writer %d seq %d", i, g, head+1)
					err = s.Append(t.Context(), id, head+1, []byte(e))
					if errors.Is(err, store.ErrConflict) {
						continue
					}
					if err != nil {
						t.Errorf("instance %d: Append(%d): %v", i, head+1, err)
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
	}
	wg.Wait()
	got, err := stores[instances-1].Entries(t.Context(), id, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != target {
		t.Fatalf("entries after concurrent appends: got %d, want %d", len(got), target)
	}
	for i, e := range got {
		if want := won[uint64(i+1)]; string(e) != want {
			t.Errorf("entry %d: got %q, want the acknowledged %q", i+1, e, want)
		}
	}
}

// TestSchemaTooNew refuses a database migrated by a newer program.
func TestSchemaTooNew(t *testing.T) {
	dsn := pgtest.Schema(t, pgtest.Start(t), "too_new")
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), "UPDATE endymail_schema SET version = 99"); err != nil {
		t.Fatal(err)
	}
	_, err = Open(t.Context(), dsn)
	if err == nil || !strings.Contains(err.Error(), "version 99 is newer") {
		t.Errorf("Open of a newer schema: got error %v, want one naming version 99", err)
	}
}
