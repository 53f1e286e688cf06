package pgstore

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"

	"github.com/endymail/endymail/mesh/store"
)

// appendSQL appends in one statement: the account row's UPDATE checks the
// sequence number and the quota and takes the row lock, so of concurrent
// appends of one seq exactly one updates a row and inserts its entry.
const appendSQL = `WITH a AS (
	UPDATE accounts SET head = head + 1, entries = entries + 1, entry_bytes = entry_bytes + $4
	WHERE id = $1 AND head = $2 - 1 AND entries + 1 <= $5 AND entry_bytes + $4 <= $6
	RETURNING id)
INSERT INTO entries (account, seq, body) SELECT id, $2, $3 FROM a`

// Append implements store.Logs.
func (s *Store) Append(ctx context.Context, account string, seq uint64, entry []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if seq <= math.MaxInt64 {
		tag, err := s.pool.Exec(ctx, appendSQL, account, int64(seq), notNil(entry), int64(len(entry)),
			limit(int64(s.lim.Entries)), limit(s.lim.EntryBytes))
		if err != nil {
			return fmt.Errorf("append seq %d to account %s: %w", seq, account, err)
		}
		if tag.RowsAffected() == 1 {
			return nil
		}
	}
	return s.appendRefused(ctx, account, seq, len(entry))
}

// appendRefused explains why an append changed nothing.
func (s *Store) appendRefused(ctx context.Context, account string, seq uint64, size int) error {
	var head int64
	var u store.Usage
	err := s.pool.QueryRow(ctx, "SELECT head, entries, entry_bytes FROM accounts WHERE id = $1", account).
		Scan(&head, &u.Entries, &u.EntryBytes)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("log of account %s: %w", account, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("append seq %d to account %s: %w", seq, account, err)
	}
	if seq == uint64(head)+1 {
		u.Entries++
		u.EntryBytes += int64(size)
		if err := s.lim.Check(u); err != nil {
			return fmt.Errorf("append to account %s: %w", account, err)
		}
	}
	// Another writer got there first (the head may have moved since).
	return fmt.Errorf("append seq %d to account %s with head %d: %w", seq, account, head, store.ErrConflict)
}

// Entries implements store.Logs.
func (s *Store) Entries(ctx context.Context, account string, from uint64, n int) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out [][]byte
	if from <= math.MaxInt64 {
		rows, err := s.pool.Query(ctx, `SELECT body FROM entries WHERE account = $1 AND seq >= $2
			ORDER BY seq LIMIT $3`, account, int64(from), limit(int64(n)))
		if err == nil {
			out, err = pgx.CollectRows(rows, pgx.RowTo[[]byte])
		}
		if err != nil {
			return nil, fmt.Errorf("entries of account %s: %w", account, err)
		}
	}
	if len(out) == 0 {
		if _, err := s.Head(ctx, account); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Head implements store.Logs.
func (s *Store) Head(ctx context.Context, account string) (uint64, error) {
	var head int64
	err := s.pool.QueryRow(ctx, "SELECT head FROM accounts WHERE id = $1", account).Scan(&head)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("log of account %s: %w", account, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("head of account %s: %w", account, err)
	}
	return uint64(head), nil
}

// PutBlob implements store.Blobs.
func (s *Store) PutBlob(ctx context.Context, account, key string, data []byte) error {
	if key == "" {
		return fmt.Errorf("blob key is empty: %w", store.ErrInvalid)
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		var u store.Usage
		err := tx.QueryRow(ctx, "SELECT blob_bytes FROM accounts WHERE id = $1 FOR UPDATE", account).Scan(&u.BlobBytes)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("account %s: %w", account, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		var same bool
		err = tx.QueryRow(ctx, "SELECT data = $3 FROM blobs WHERE account = $1 AND key = $2", account, key, notNil(data)).Scan(&same)
		switch {
		case err == nil && same:
			return nil
		case err == nil:
			return fmt.Errorf("blob %s of account %s holds other data: %w", key, account, store.ErrExists)
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		u.BlobBytes += int64(len(data))
		if err := s.lim.Check(u); err != nil {
			return fmt.Errorf("blob %s of account %s: %w", key, account, err)
		}
		_, err = tx.Exec(ctx, "INSERT INTO blobs (account, key, data) VALUES ($1, $2, $3)", account, key, notNil(data))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE accounts SET blob_bytes = $2 WHERE id = $1", account, u.BlobBytes)
		return err
	})
}

// Blob implements store.Blobs.
func (s *Store) Blob(ctx context.Context, account, key string) ([]byte, error) {
	var data []byte
	err := s.pool.QueryRow(ctx, "SELECT data FROM blobs WHERE account = $1 AND key = $2", account, key).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("blob %s of account %s: %w", key, account, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("blob %s of account %s: %w", key, account, err)
	}
	return data, nil
}

// Usage implements store.Store.
func (s *Store) Usage(ctx context.Context, account string) (store.Usage, error) {
	var u store.Usage
	err := s.pool.QueryRow(ctx, `SELECT entries, entry_bytes, blob_bytes,
		(SELECT count(*) FROM requests WHERE account = $1 AND state = 'pending' AND expires > $2)
		FROM accounts WHERE id = $1`, account, s.now()).Scan(&u.Entries, &u.EntryBytes, &u.BlobBytes, &u.Requests)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, fmt.Errorf("account %s: %w", account, store.ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("usage of account %s: %w", account, err)
	}
	return u, nil
}
