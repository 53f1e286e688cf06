package boltstore

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/endymail/endymail/mesh/store"
)

// requestsOf calls fn for each stored request of account.
func requestsOf(tx *bolt.Tx, account string, fn func(r store.Request) error) error {
	b := tx.Bucket(bucketRequests).Bucket([]byte(account))
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		var r store.Request
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("request %s of account %s: corrupt record: %w", k, account, err)
		}
		r.Created, r.Expires = r.Created.UTC(), r.Expires.UTC()
		return fn(r)
	})
}

// countRequests returns how many requests of account count towards usage.
func (s *Store) countRequests(tx *bolt.Tx, account string) (int, error) {
	n, now := 0, s.now()
	err := requestsOf(tx, account, func(r store.Request) error {
		if r.Counts(now) {
			n++
		}
		return nil
	})
	return n, err
}

// putRequest writes r.
func putRequest(tx *bolt.Tx, r store.Request) error {
	b, err := tx.Bucket(bucketRequests).CreateBucketIfNotExists([]byte(r.Account))
	if err != nil {
		return err
	}
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return b.Put([]byte(r.ID), v)
}

// PutRequest implements store.Requests.
func (s *Store) PutRequest(ctx context.Context, r store.Request) error {
	r, err := store.CheckRequest(r)
	if err != nil {
		return err
	}
	r.Created = r.Created.UTC().Truncate(time.Microsecond)
	r.Expires = r.Expires.UTC().Truncate(time.Microsecond)
	return s.update(ctx, func(tx *bolt.Tx) error {
		rec, err := getAccount(tx, r.Account)
		if err != nil {
			return err
		}
		if b := tx.Bucket(bucketRequests).Bucket([]byte(r.Account)); b != nil && b.Get([]byte(r.ID)) != nil {
			return fmt.Errorf("request %s of account %s: %w", r.ID, r.Account, store.ErrExists)
		}
		if r.Counts(s.now()) {
			u := rec.usage()
			if u.Requests, err = s.countRequests(tx, r.Account); err != nil {
				return err
			}
			u.Requests++
			if err := s.lim.Check(u); err != nil {
				return fmt.Errorf("request %s of account %s: %w", r.ID, r.Account, err)
			}
		}
		return putRequest(tx, r)
	})
}

// getRequest reads one request, or ErrNotFound.
func getRequest(tx *bolt.Tx, account, id string) (store.Request, error) {
	var r store.Request
	b := tx.Bucket(bucketRequests).Bucket([]byte(account))
	if b == nil {
		return r, fmt.Errorf("request %s of account %s: %w", id, account, store.ErrNotFound)
	}
	v := b.Get([]byte(id))
	if v == nil {
		return r, fmt.Errorf("request %s of account %s: %w", id, account, store.ErrNotFound)
	}
	if err := json.Unmarshal(v, &r); err != nil {
		return r, fmt.Errorf("request %s of account %s: corrupt record: %w", id, account, err)
	}
	r.Created, r.Expires = r.Created.UTC(), r.Expires.UTC()
	return r, nil
}

// Request implements store.Requests.
func (s *Store) Request(ctx context.Context, account, id string) (store.Request, error) {
	var r store.Request
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		r, err = getRequest(tx, account, id)
		return err
	})
	return r, err
}

// Requests implements store.Requests.
func (s *Store) Requests(ctx context.Context, account string) ([]store.Request, error) {
	var out []store.Request
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if _, err := getAccount(tx, account); err != nil {
			return err
		}
		return requestsOf(tx, account, func(r store.Request) error {
			out = append(out, r)
			return nil
		})
	})
	slices.SortFunc(out, func(a, b store.Request) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return out, err
}

// AnswerRequest implements store.Requests.
func (s *Store) AnswerRequest(ctx context.Context, account, id, state string, answer []byte) error {
	if err := store.CheckAnswer(state); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		r, err := getRequest(tx, account, id)
		if err != nil {
			return err
		}
		if r.State != store.StatePending {
			return fmt.Errorf("request %s of account %s is %s: %w", id, account, r.State, store.ErrConflict)
		}
		r.State, r.Answer = state, answer
		return putRequest(tx, r)
	})
}

// PruneRequests implements store.Requests.
func (s *Store) PruneRequests(ctx context.Context, before time.Time) (int, error) {
	n := 0
	err := s.update(ctx, func(tx *bolt.Tx) error {
		n = 0 // the function may run more than once
		return tx.Bucket(bucketRequests).ForEachBucket(func(account []byte) error {
			var expired []string
			err := requestsOf(tx, string(account), func(r store.Request) error {
				if r.Expires.Before(before) {
					expired = append(expired, r.ID)
				}
				return nil
			})
			b := tx.Bucket(bucketRequests).Bucket(account)
			for _, id := range expired {
				if err := b.Delete([]byte(id)); err != nil {
					return err
				}
				n++
			}
			return err
		})
	})
	return n, err
}

// pruneBatch bounds how many expired nonces one UseNonce removes.
const pruneBatch = 64

// UseNonce implements store.Nonces.
func (s *Store) UseNonce(ctx context.Context, nonce []byte, expires time.Time) error {
	if len(nonce) == 0 {
		return fmt.Errorf("nonce is empty: %w", store.ErrInvalid)
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		nonces, index := tx.Bucket(bucketNonces), tx.Bucket(bucketNonceExpiry)
		now := s.now().UnixMicro()
		if err := pruneNonces(nonces, index, now); err != nil {
			return err
		}
		if old := nonces.Get(nonce); old != nil {
			if int64(binary.BigEndian.Uint64(old)) > now {
				return fmt.Errorf("nonce %x: %w", nonce, store.ErrReplay)
			}
			if err := index.Delete(append(bytes.Clone(old), nonce...)); err != nil {
				return err
			}
		}
		exp := binary.BigEndian.AppendUint64(nil, uint64(max(expires.UnixMicro(), 0)))
		if err := nonces.Put(nonce, exp); err != nil {
			return err
		}
		return index.Put(append(exp, nonce...), nil)
	})
}

// pruneNonces removes up to pruneBatch nonce records that expired before now.
func pruneNonces(nonces, index *bolt.Bucket, now int64) error {
	c := index.Cursor()
	for i, k := 0, firstKey(c); i < pruneBatch && k != nil; i, k = i+1, firstKey(c) {
		if int64(binary.BigEndian.Uint64(k[:8])) > now {
			return nil
		}
		if err := nonces.Delete(k[8:]); err != nil {
			return err
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// firstKey returns the first key in c's bucket (nil when empty). Re-seeking
// after each delete keeps the cursor valid.
func firstKey(c *bolt.Cursor) []byte {
	k, _ := c.First()
	return bytes.Clone(k)
}
