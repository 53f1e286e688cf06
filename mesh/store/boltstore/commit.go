package boltstore

import (
	"context"
	"errors"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/endymail/endymail/mesh/store"
)

// committer is group commit: writers that arrive while a transaction is being
// committed queue up, and the next leader runs all of them in one bbolt
// transaction with one fsync. There is no added delay: a lone writer commits
// at once, and batches form only under load.
//
// The write functions keep one rule that makes this safe: a function that
// returns a clean error (a store sentinel or a context error) has made no
// change that must be undone, so the others in its batch can still commit. Any
// other error rolls the batch back and its function runs again alone.
type committer struct {
	db    *bolt.DB
	mu    sync.Mutex
	queue []*op
	busy  bool // a leader is committing
}

// op is one queued write.
type op struct {
	fn   func(tx *bolt.Tx) error
	done chan error // the result, or errLead
}

// errLead tells a queued writer that it is the next leader.
var errLead = errors.New("lead the next batch")

// do runs fn in a committed write transaction, possibly shared with other
// writers, and returns fn's error or the commit's.
func (c *committer) do(fn func(tx *bolt.Tx) error) error {
	o := &op{fn: fn, done: make(chan error, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, o)
	lead := !c.busy
	c.busy = true
	c.mu.Unlock()
	if !lead {
		if err := <-o.done; err != errLead {
			return err
		}
	}
	c.mu.Lock()
	batch := c.queue
	c.queue = nil
	c.mu.Unlock()
	c.commit(batch)
	c.mu.Lock()
	if len(c.queue) > 0 {
		c.queue[0].done <- errLead
	} else {
		c.busy = false
	}
	c.mu.Unlock()
	return <-o.done
}

// commit runs batch in one transaction and delivers each op's result.
func (c *committer) commit(batch []*op) {
	results := make([]error, len(batch))
	dirty := -1
	err := c.db.Update(func(tx *bolt.Tx) error {
		for i, o := range batch {
			results[i] = o.fn(tx)
			if results[i] != nil && !clean(results[i]) {
				dirty = i
				return results[i]
			}
		}
		return nil
	})
	if dirty >= 0 {
		batch[dirty].done <- c.db.Update(batch[dirty].fn)
		if rest := append(batch[:dirty:dirty], batch[dirty+1:]...); len(rest) > 0 {
			c.commit(rest)
		}
		return
	}
	for i, o := range batch {
		if err != nil {
			o.done <- err
		} else {
			o.done <- results[i]
		}
	}
}

// clean reports whether err is one that write functions return before
// changing anything.
func clean(err error) bool {
	for _, target := range []error{store.ErrNotFound, store.ErrExists, store.ErrConflict, store.ErrReplay,
		store.ErrQuota, store.ErrInvalid, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
