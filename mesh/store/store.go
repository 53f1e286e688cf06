// Package store defines the mesh service's storage: accounts and their
// append-only logs, immutable blobs, device connection requests, single-use
// nonces, the public address index, and per-account usage.
//
// The service programs against [Store]. Two implementations exist: the
// embedded single-file store in package boltstore (the default) and the
// PostgreSQL store in package pgstore (many stateless service instances
// sharing one database). Both pass the conformance suite in package storetest,
// which is the executable form of the contracts written here.
//
// Every method honours its context: a context that is already done makes the
// call fail with an error wrapping ctx.Err() and change nothing. Errors that a
// caller branches on wrap one of the sentinels below; test with errors.Is.
// Times are kept to the microsecond and returned in UTC.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Implementations wrap them with detail.
var (
	// ErrNotFound means the account, entry, blob, request or address does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists means the ID, handle, blob key, request ID or address is taken.
	ErrExists = errors.New("already exists")
	// ErrConflict means the write does not fit the current state: a log
	// sequence number other than head+1, or answering a request that is not
	// pending.
	ErrConflict = errors.New("conflict")
	// ErrReplay means a single-use nonce was already used.
	ErrReplay = errors.New("replay")
	// ErrQuota means the write would take the account over one of its [Limits].
	ErrQuota = errors.New("over quota")
	// ErrInvalid means an argument can never be stored: an empty ID, key or
	// nonce, an account without a genesis entry, an unknown request state.
	ErrInvalid = errors.New("invalid argument")
)

// Account is a stored account.
type Account struct {
	ID      string    // account fingerprint, UDF text form
	Handle  string    // the address the account is found by, lower-case; "" for none
	Created time.Time // when the account was created
}

// Request states.
const (
	StatePending  = "pending"
	StateApproved = "approved"
	StateDenied   = "denied"
)

// Request is a device connection request: observed state, not configuration.
type Request struct {
	ID          string
	Account     string
	Body        []byte // the signed request envelope, exact bytes
	ServerNonce []byte
	Created     time.Time
	Expires     time.Time
	State       string // StatePending, StateApproved or StateDenied; "" is stored as StatePending
	Answer      []byte // exact bytes of the signed answer (deny envelope), or nil
}

// Usage is what an account holds in the store.
type Usage struct {
	Entries    int   // log entries
	EntryBytes int64 // total size of the log entries
	BlobBytes  int64 // total size of the blobs
	Requests   int   // requests that are pending and not yet expired
}

// Limits caps what one account may hold; a zero field means no limit. A write
// that would take a [Usage] field over its limit fails with [ErrQuota] and
// changes nothing. Stores check limits in the same transaction as the write, so
// concurrent writers cannot overshoot them.
type Limits struct {
	Entries    int
	EntryBytes int64
	BlobBytes  int64
	Requests   int
}

// Accounts stores accounts.
type Accounts interface {
	// CreateAccount stores a new account with its first log entries (seq
	// 0..n-1), atomically. ErrExists when the ID or the Handle is taken;
	// ErrInvalid when the ID is empty or entries is empty; ErrQuota when the
	// entries alone exceed the limits.
	CreateAccount(ctx context.Context, a Account, entries [][]byte) error
	// Account returns the account with this ID, or ErrNotFound.
	Account(ctx context.Context, id string) (Account, error)
	// AccountByHandle returns the account with this handle (compared
	// exactly), or ErrNotFound.
	AccountByHandle(ctx context.Context, handle string) (Account, error)
}

// Logs stores each account's append-only log.
type Logs interface {
	// Append stores entry as sequence number seq; ErrConflict unless seq ==
	// head+1, ErrNotFound for an unknown account, ErrQuota over the limits.
	// Of many concurrent appends of the same seq exactly one succeeds. It
	// returns only after the entry is durable (survives kill -9, and power
	// loss as far as fsync goes).
	Append(ctx context.Context, account string, seq uint64, entry []byte) error
	// Entries returns the entries with sequence number >= from, at most limit
	// (no limit when limit <= 0), in order; none when from > head.
	// ErrNotFound for an unknown account.
	Entries(ctx context.Context, account string, from uint64, limit int) ([][]byte, error)
	// Head returns the sequence number of the last entry; ErrNotFound for an
	// unknown account.
	Head(ctx context.Context, account string) (seq uint64, err error)
}

// Blobs stores immutable data (key bundles) per account.
type Blobs interface {
	// PutBlob stores immutable data under key; storing identical data again
	// is fine, different data is ErrExists. ErrNotFound for an unknown
	// account, ErrInvalid for an empty key, ErrQuota over the limits.
	PutBlob(ctx context.Context, account, key string, data []byte) error
	// Blob returns the data stored under key, or ErrNotFound.
	Blob(ctx context.Context, account, key string) ([]byte, error)
}

// Requests stores device connection requests.
type Requests interface {
	// PutRequest stores r under (r.Account, r.ID). ErrExists on a duplicate
	// ID, ErrNotFound for an unknown account, ErrInvalid for an empty ID or
	// an unknown state, ErrQuota over the pending-request limit.
	PutRequest(ctx context.Context, r Request) error
	// Request returns one request, or ErrNotFound.
	Request(ctx context.Context, account, id string) (Request, error)
	// Requests returns all of the account's requests, oldest first (by
	// Created, then ID); the caller filters expired ones. ErrNotFound for an
	// unknown account.
	Requests(ctx context.Context, account string) ([]Request, error)
	// AnswerRequest moves a pending request to state (StateApproved or
	// StateDenied, else ErrInvalid) with answer, once; ErrConflict if it is
	// not pending, ErrNotFound if it does not exist.
	AnswerRequest(ctx context.Context, account, id, state string, answer []byte) error
	// PruneRequests deletes every request, of any account and in any state,
	// that expired before before, and returns how many it deleted. Nothing
	// else removes requests: the service calls it now and then.
	PruneRequests(ctx context.Context, before time.Time) (int, error)
}

// Nonces remembers single-use values.
type Nonces interface {
	// UseNonce records a single-use value until expires; ErrReplay if it was
	// already used and that use has not expired. A use whose expiry has
	// passed no longer counts, and stores prune such records as they go.
	// ErrInvalid for an empty nonce.
	UseNonce(ctx context.Context, nonce []byte, expires time.Time) error
}

// Addresses is the public index from a mail address to the account that
// publishes keys for it.
type Addresses interface {
	// Publish maps address to account. Publishing it again for the same
	// account is fine; ErrExists when another account holds it, ErrNotFound
	// for an unknown account, ErrInvalid for an empty address.
	Publish(ctx context.Context, address, account string) error
	// Unpublish removes the mapping of address to account; ErrNotFound when
	// account does not hold address.
	Unpublish(ctx context.Context, address, account string) error
	// Lookup returns the account that holds address, or ErrNotFound.
	Lookup(ctx context.Context, address string) (account string, err error)
}

// Store is everything the mesh service keeps.
type Store interface {
	Accounts
	Logs
	Blobs
	Requests
	Nonces
	Addresses
	// Usage returns what the account holds; ErrNotFound for an unknown account.
	Usage(ctx context.Context, account string) (Usage, error)
	// Close releases the store. Calls after Close fail.
	Close() error
}

// Notifier is implemented by stores that many service instances share: it
// carries "this account changed" between them so a long poll held by one
// instance wakes when another instance writes.
type Notifier interface {
	// Notify tells every subscribed instance (this one included) that
	// account changed.
	Notify(ctx context.Context, account string) error
	// Subscribe calls fn for every notice until ctx ends, reconnecting
	// after errors. It returns when ctx ends.
	Subscribe(ctx context.Context, fn func(account string))
}
