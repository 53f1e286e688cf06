// Package pgstore is the PostgreSQL implementation of store.Store, for
// running many stateless mesh service instances in front of one database.
//
// [Open] connects a pool (pgxpool) and creates or migrates the schema in the
// connection's search path. Every write is a single statement or a
// transaction that locks the account row, so concurrent writers in any number
// of processes keep each contract: exactly one append wins each sequence
// number, quotas are never overshot, a request is answered once. Writes
// return after commit, which with PostgreSQL's default synchronous_commit
// means the WAL has been flushed.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/endymail/endymail/mesh/store"
)

// Options configures [OpenOptions]. The zero value is ready to use.
type Options struct {
	// Limits caps what each account may hold.
	Limits store.Limits
	// Now is the clock used for nonce expiry and pending-request counts;
	// nil means time.Now. Service instances sharing a database should have
	// synchronised clocks.
	Now func() time.Time
}

// Store is a store.Store in a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	lim  store.Limits
	now  func() time.Time
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at dsn (a libpq key=value string or a
// postgres:// URL; pgxpool's pool_* parameters apply) and migrates its schema.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return OpenOptions(ctx, dsn, Options{})
}

// OpenOptions is [Open] with options.
func OpenOptions(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse postgres dsn: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres schema: %w", err)
	}
	return &Store{pool: pool, lim: opts.Limits, now: opts.Now}, nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// pgCode returns the SQLSTATE of err, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// SQLSTATE codes the store maps to sentinels.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// notNil returns b, or an empty slice for nil (NOT NULL bytea columns).
func notNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// limit returns n as a SQL limit, where 0 means none.
func limit(n int64) int64 {
	if n <= 0 {
		return math.MaxInt64
	}
	return n
}

// tx runs fn in a transaction unless ctx is done.
func (s *Store) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// CreateAccount implements store.Accounts.
func (s *Store) CreateAccount(ctx context.Context, a store.Account, entries [][]byte) error {
	if err := store.CheckAccount(a, entries); err != nil {
		return err
	}
	u := store.Usage{Entries: len(entries)}
	bodies := make([][]byte, len(entries))
	for i, e := range entries {
		u.EntryBytes += int64(len(e))
		bodies[i] = notNil(e)
	}
	if err := s.lim.Check(u); err != nil {
		return fmt.Errorf("create account %s: %w", a.ID, err)
	}
	var handle *string
	if a.Handle != "" {
		handle = &a.Handle
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO accounts (id, handle, created, head, entries, entry_bytes)
			VALUES ($1, $2, $3, $4, $5, $6)`,
			a.ID, handle, a.Created.Truncate(time.Microsecond), len(entries)-1, u.Entries, u.EntryBytes)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO entries (account, seq, body)
			SELECT $1, o - 1, b FROM unnest($2::bytea[]) WITH ORDINALITY AS t (b, o)`, a.ID, bodies)
		return err
	})
	if pgCode(err) == uniqueViolation {
		return fmt.Errorf("account %s or handle %q: %w", a.ID, a.Handle, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("create account %s: %w", a.ID, err)
	}
	return nil
}

// Account implements store.Accounts.
func (s *Store) Account(ctx context.Context, id string) (store.Account, error) {
	return s.account(ctx, "id", id)
}

// AccountByHandle implements store.Accounts.
func (s *Store) AccountByHandle(ctx context.Context, handle string) (store.Account, error) {
	return s.account(ctx, "handle", handle)
}

// account returns the account whose column (id or handle) equals value.
func (s *Store) account(ctx context.Context, column, value string) (store.Account, error) {
	var (
		a      store.Account
		handle *string
	)
	err := s.pool.QueryRow(ctx, "SELECT id, handle, created FROM accounts WHERE "+column+" = $1", value).
		Scan(&a.ID, &handle, &a.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, fmt.Errorf("account with %s %q: %w", column, value, store.ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("account with %s %q: %w", column, value, err)
	}
	if handle != nil {
		a.Handle = *handle
	}
	a.Created = a.Created.UTC()
	return a, nil
}
