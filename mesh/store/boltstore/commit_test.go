package boltstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/endymail/endymail/mesh/store"
)

// TestGroupCommit queues writers behind a slow one so they share a batch,
// with one clean failure and one failure after a write among them: every
// other write must commit, and neither failure may leave a change.
func TestGroupCommit(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "c.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	bucket := []byte("b")
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(bucket); return err }); err != nil {
		t.Fatal(err)
	}
	c := &committer{db: db}
	errDirty := errors.New("failed after a write")
	const n, cleanFail, dirtyFail = 20, 5, 11
	var calls [n]atomic.Int32
	write := func(i int) error {
		return c.do(func(tx *bolt.Tx) error {
			calls[i].Add(1)
			if i == 0 {
				time.Sleep(100 * time.Millisecond) // the others queue meanwhile
			}
			if i == cleanFail {
				return store.ErrConflict
			}
			if err := tx.Bucket(bucket).Put(fmt.Append(nil, i), []byte("v")); err != nil {
				return err
			}
			if i == dirtyFail {
				return errDirty
			}
			return nil
		})
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	wg.Go(func() { errs[0] = write(0) })
	time.Sleep(20 * time.Millisecond)
	for i := 1; i < n; i++ {
		wg.Go(func() { errs[i] = write(i) })
	}
	wg.Wait()
	if calls[dirtyFail].Load() < 2 {
		t.Errorf("the failing write ran %d times, want it in a batch and then alone", calls[dirtyFail].Load())
	}
	err = db.View(func(tx *bolt.Tx) error {
		for i := range n {
			v := tx.Bucket(bucket).Get(fmt.Append(nil, i))
			switch i {
			case cleanFail, dirtyFail:
				if v != nil {
					t.Errorf("write %d failed but its change was committed", i)
				}
			default:
				if errs[i] != nil || v == nil {
					t.Errorf("write %d: got error %v, committed %v; want nil, true", i, errs[i], v != nil)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(errs[cleanFail], store.ErrConflict) || !errors.Is(errs[dirtyFail], errDirty) {
		t.Errorf("failing writes: got %v and %v, want %v and %v", errs[cleanFail], errs[dirtyFail], store.ErrConflict, errDirty)
	}
}
