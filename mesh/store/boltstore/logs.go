package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/endymail/endymail/mesh/store"
)

// logBucket returns the log of account, or ErrNotFound.
func logBucket(tx *bolt.Tx, account string) (*bolt.Bucket, error) {
	b := tx.Bucket(bucketLogs).Bucket([]byte(account))
	if b == nil {
		return nil, fmt.Errorf("log of account %s: %w", account, store.ErrNotFound)
	}
	return b, nil
}

// head returns the last sequence number in log.
func head(log *bolt.Bucket) uint64 {
	k, _ := log.Cursor().Last()
	return binary.BigEndian.Uint64(k)
}

// Append implements store.Logs.
func (s *Store) Append(ctx context.Context, account string, seq uint64, entry []byte) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		rec, err := getAccount(tx, account)
		if err != nil {
			return err
		}
		log, err := logBucket(tx, account)
		if err != nil {
			return err
		}
		if h := head(log); seq != h+1 {
			return fmt.Errorf("append seq %d to account %s with head %d: %w", seq, account, h, store.ErrConflict)
		}
		rec.Entries++
		rec.EntryBytes += int64(len(entry))
		if err := s.lim.Check(rec.usage()); err != nil {
			return fmt.Errorf("append to account %s: %w", account, err)
		}
		if err := log.Put(seqKey(seq), entry); err != nil {
			return err
		}
		return putAccount(tx, account, rec)
	})
}

// Entries implements store.Logs.
func (s *Store) Entries(ctx context.Context, account string, from uint64, limit int) ([][]byte, error) {
	var out [][]byte
	err := s.view(ctx, func(tx *bolt.Tx) error {
		log, err := logBucket(tx, account)
		if err != nil {
			return err
		}
		c := log.Cursor()
		for k, v := c.Seek(seqKey(from)); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			out = append(out, bytes.Clone(v))
		}
		return nil
	})
	return out, err
}

// Head implements store.Logs.
func (s *Store) Head(ctx context.Context, account string) (uint64, error) {
	var seq uint64
	err := s.view(ctx, func(tx *bolt.Tx) error {
		log, err := logBucket(tx, account)
		if err == nil {
			seq = head(log)
		}
		return err
	})
	return seq, err
}

// get returns the value stored under key in b, telling an empty value from
// a missing key.
func get(b *bolt.Bucket, key []byte) ([]byte, bool) {
	k, v := b.Cursor().Seek(key)
	if k == nil || !bytes.Equal(k, key) {
		return nil, false
	}
	return v, true
}

// PutBlob implements store.Blobs.
func (s *Store) PutBlob(ctx context.Context, account, key string, data []byte) error {
	if key == "" {
		return fmt.Errorf("blob key is empty: %w", store.ErrInvalid)
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		rec, err := getAccount(tx, account)
		if err != nil {
			return err
		}
		if blobs := tx.Bucket(bucketBlobs).Bucket([]byte(account)); blobs != nil {
			if old, ok := get(blobs, []byte(key)); ok {
				if bytes.Equal(old, data) {
					return nil
				}
				return fmt.Errorf("blob %s of account %s holds other data: %w", key, account, store.ErrExists)
			}
		}
		rec.BlobBytes += int64(len(data))
		if err := s.lim.Check(rec.usage()); err != nil {
			return fmt.Errorf("blob %s of account %s: %w", key, account, err)
		}
		blobs, err := tx.Bucket(bucketBlobs).CreateBucketIfNotExists([]byte(account))
		if err != nil {
			return err
		}
		if err := blobs.Put([]byte(key), data); err != nil {
			return err
		}
		return putAccount(tx, account, rec)
	})
}

// Blob implements store.Blobs.
func (s *Store) Blob(ctx context.Context, account, key string) ([]byte, error) {
	var data []byte
	err := s.view(ctx, func(tx *bolt.Tx) error {
		blobs := tx.Bucket(bucketBlobs).Bucket([]byte(account))
		if blobs != nil {
			if v, ok := get(blobs, []byte(key)); ok {
				data = bytes.Clone(v)
				return nil
			}
		}
		return fmt.Errorf("blob %s of account %s: %w", key, account, store.ErrNotFound)
	})
	return data, err
}

// Usage implements store.Store.
func (s *Store) Usage(ctx context.Context, account string) (store.Usage, error) {
	var u store.Usage
	err := s.view(ctx, func(tx *bolt.Tx) error {
		rec, err := getAccount(tx, account)
		if err != nil {
			return err
		}
		u = rec.usage()
		u.Requests, err = s.countRequests(tx, account)
		return err
	})
	return u, err
}
