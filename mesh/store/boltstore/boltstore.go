// Package boltstore is the embedded, single-file implementation of
// store.Store on go.etcd.io/bbolt: the mesh service's default storage.
//
// Open it once per process with [Open]; a second process opening the same
// file gets [ErrInUse]. Every write is one bbolt transaction that is fsynced
// before the method returns, so an acknowledged write survives kill -9 (and
// power loss as far as the disk honours fsync).
package boltstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/endymail/endymail/mesh/store"
)

// ErrInUse means another process (or another Open in this process) holds the
// store file.
var ErrInUse = errors.New("store is in use by another process")

// Options configures [Open]. The zero value is ready to use.
type Options struct {
	// Limits caps what each account may hold.
	Limits store.Limits
	// Timeout is how long Open waits for another holder of the file to
	// release it before failing with ErrInUse; 0 means one second.
	Timeout time.Duration
	// Now is the clock used for nonce expiry and pending-request counts;
	// nil means time.Now.
	Now func() time.Time
}

// Store is a store.Store kept in one bbolt file.
type Store struct {
	db  *bolt.DB
	w   *committer
	lim store.Limits
	now func() time.Time
}

var _ store.Store = (*Store)(nil)

// Bucket names. Logs, blobs and requests hold one nested bucket per account.
var (
	bucketAccounts    = []byte("accounts")     // id -> accountRec (JSON)
	bucketHandles     = []byte("handles")      // handle -> id
	bucketLogs        = []byte("logs")         // id / be64(seq) -> entry
	bucketBlobs       = []byte("blobs")        // id / key -> data
	bucketRequests    = []byte("requests")     // id / request id -> store.Request (JSON)
	bucketNonces      = []byte("nonces")       // nonce -> be64(expires, unix µs)
	bucketNonceExpiry = []byte("nonce-expiry") // be64(expires) || nonce -> empty
	bucketAddresses   = []byte("addresses")    // address -> id
	bucketMeta        = []byte("meta")         // "version" -> formatVersion
)

// formatVersion is the layout of the buckets above. Open refuses a file
// written with a newer layout.
const formatVersion = 1

// Open opens or creates the store file at path (mode 0600).
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w", path, ErrInUse)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := db.Update(initialise); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &Store{db: db, w: &committer{db: db}, lim: opts.Limits, now: opts.Now}, nil
}

// initialise creates the buckets of a new file and checks the format
// version of an old one.
func initialise(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketAccounts, bucketHandles, bucketLogs, bucketBlobs,
		bucketRequests, bucketNonces, bucketNonceExpiry, bucketAddresses, bucketMeta} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	if v := meta.Get([]byte("version")); v != nil {
		if len(v) != 8 || binary.BigEndian.Uint64(v) > formatVersion {
			return fmt.Errorf("store format version %x is newer than this program's %d", v, formatVersion)
		}
		return nil
	}
	return meta.Put([]byte("version"), binary.BigEndian.AppendUint64(nil, formatVersion))
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// update runs fn in a write transaction that is committed (and fsynced)
// before it returns; fn's changes are kept only when it returns nil, and fn
// must return clean errors (see committer) before changing anything. A done
// ctx stops it before it starts and before fn runs.
func (s *Store) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.w.do(func(tx *bolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(tx)
	})
}

// view runs fn in a read transaction unless ctx is done.
func (s *Store) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

// accountRec is the stored form of an account and its running usage.
type accountRec struct {
	Handle     string    `json:"handle,omitempty"`
	Created    time.Time `json:"created"`
	Entries    int       `json:"entries"`
	EntryBytes int64     `json:"entryBytes"`
	BlobBytes  int64     `json:"blobBytes"`
}

// usage returns the counted part of the account's usage.
func (a accountRec) usage() store.Usage {
	return store.Usage{Entries: a.Entries, EntryBytes: a.EntryBytes, BlobBytes: a.BlobBytes}
}

// getAccount reads the record of account id, or ErrNotFound.
func getAccount(tx *bolt.Tx, id string) (accountRec, error) {
	var a accountRec
	v := tx.Bucket(bucketAccounts).Get([]byte(id))
	if v == nil {
		return a, fmt.Errorf("account %s: %w", id, store.ErrNotFound)
	}
	if err := json.Unmarshal(v, &a); err != nil {
		return a, fmt.Errorf("account %s: corrupt record: %w", id, err)
	}
	return a, nil
}

// putAccount writes the record of account id.
func putAccount(tx *bolt.Tx, id string, a accountRec) error {
	v, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketAccounts).Put([]byte(id), v)
}

// CreateAccount implements store.Accounts.
func (s *Store) CreateAccount(ctx context.Context, a store.Account, entries [][]byte) error {
	if err := store.CheckAccount(a, entries); err != nil {
		return err
	}
	rec := accountRec{Handle: a.Handle, Created: a.Created.UTC().Truncate(time.Microsecond)}
	for _, e := range entries {
		rec.Entries++
		rec.EntryBytes += int64(len(e))
	}
	if err := s.lim.Check(rec.usage()); err != nil {
		return fmt.Errorf("create account %s: %w", a.ID, err)
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketAccounts).Get([]byte(a.ID)) != nil {
			return fmt.Errorf("account %s: %w", a.ID, store.ErrExists)
		}
		if a.Handle != "" {
			handles := tx.Bucket(bucketHandles)
			if handles.Get([]byte(a.Handle)) != nil {
				return fmt.Errorf("handle %s: %w", a.Handle, store.ErrExists)
			}
			if err := handles.Put([]byte(a.Handle), []byte(a.ID)); err != nil {
				return err
			}
		}
		log, err := tx.Bucket(bucketLogs).CreateBucket([]byte(a.ID))
		if err != nil {
			return err
		}
		for i, e := range entries {
			if err := log.Put(seqKey(uint64(i)), e); err != nil {
				return err
			}
		}
		return putAccount(tx, a.ID, rec)
	})
}

// Account implements store.Accounts.
func (s *Store) Account(ctx context.Context, id string) (store.Account, error) {
	var a store.Account
	err := s.view(ctx, func(tx *bolt.Tx) error {
		rec, err := getAccount(tx, id)
		a = store.Account{ID: id, Handle: rec.Handle, Created: rec.Created.UTC()}
		return err
	})
	return a, err
}

// AccountByHandle implements store.Accounts.
func (s *Store) AccountByHandle(ctx context.Context, handle string) (store.Account, error) {
	var a store.Account
	err := s.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketHandles).Get([]byte(handle))
		if v == nil || handle == "" {
			return fmt.Errorf("handle %q: %w", handle, store.ErrNotFound)
		}
		rec, err := getAccount(tx, string(v))
		a = store.Account{ID: string(v), Handle: rec.Handle, Created: rec.Created.UTC()}
		return err
	})
	return a, err
}

// seqKey is the key of log entry seq: big-endian, so keys sort by seq.
func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }
