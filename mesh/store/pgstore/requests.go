package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/endymail/endymail/mesh/store"
)

// PutRequest implements store.Requests.
func (s *Store) PutRequest(ctx context.Context, r store.Request) error {
	r, err := store.CheckRequest(r)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		// The account row lock serialises the pending-request count.
		_, err := tx.Exec(ctx, "SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE", r.Account)
		if err != nil {
			return err
		}
		var pending int
		now := s.now()
		err = tx.QueryRow(ctx, `SELECT count(*) FROM requests WHERE account = $1 AND state = 'pending' AND expires > $2`,
			r.Account, now).Scan(&pending)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO requests (account, id, body, server_nonce, created, expires, state, answer)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
			r.Account, r.ID, notNil(r.Body), notNil(r.ServerNonce), r.Created.Truncate(time.Microsecond),
			r.Expires.Truncate(time.Microsecond), r.State, r.Answer)
		switch {
		case pgCode(err) == foreignKeyViolation:
			return fmt.Errorf("account %s: %w", r.Account, store.ErrNotFound)
		case err != nil:
			return err
		case tag.RowsAffected() == 0:
			return fmt.Errorf("request %s of account %s: %w", r.ID, r.Account, store.ErrExists)
		}
		if r.Counts(now) {
			if err := s.lim.Check(store.Usage{Requests: pending + 1}); err != nil {
				return fmt.Errorf("request %s of account %s: %w", r.ID, r.Account, err)
			}
		}
		return nil
	})
}

// requestColumns are scanned by scanRequest.
const requestColumns = "account, id, body, server_nonce, created, expires, state, answer"

// scanRequest reads one row of requestColumns.
func scanRequest(row pgx.CollectableRow) (store.Request, error) {
	var r store.Request
	err := row.Scan(&r.Account, &r.ID, &r.Body, &r.ServerNonce, &r.Created, &r.Expires, &r.State, &r.Answer)
	r.Created, r.Expires = r.Created.UTC(), r.Expires.UTC()
	return r, err
}

// Request implements store.Requests.
func (s *Store) Request(ctx context.Context, account, id string) (store.Request, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+requestColumns+" FROM requests WHERE account = $1 AND id = $2", account, id)
	if err != nil {
		return store.Request{}, fmt.Errorf("request %s of account %s: %w", id, account, err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanRequest)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, fmt.Errorf("request %s of account %s: %w", id, account, store.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("request %s of account %s: %w", id, account, err)
	}
	return r, nil
}

// Requests implements store.Requests.
func (s *Store) Requests(ctx context.Context, account string) ([]store.Request, error) {
	if _, err := s.Head(ctx, account); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, "SELECT "+requestColumns+` FROM requests WHERE account = $1
		ORDER BY created, id COLLATE "C"`, account)
	if err != nil {
		return nil, fmt.Errorf("requests of account %s: %w", account, err)
	}
	out, err := pgx.CollectRows(rows, scanRequest)
	if err != nil {
		return nil, fmt.Errorf("requests of account %s: %w", account, err)
	}
	return out, nil
}

// AnswerRequest implements store.Requests.
func (s *Store) AnswerRequest(ctx context.Context, account, id, state string, answer []byte) error {
	if err := store.CheckAnswer(state); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE requests SET state = $3, answer = $4
		WHERE account = $1 AND id = $2 AND state = 'pending'`, account, id, state, answer)
	if err != nil {
		return fmt.Errorf("answer request %s of account %s: %w", id, account, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	r, err := s.Request(ctx, account, id)
	if err != nil {
		return err
	}
	return fmt.Errorf("request %s of account %s is %s: %w", id, account, r.State, store.ErrConflict)
}

// PruneRequests implements store.Requests.
func (s *Store) PruneRequests(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	tag, err := s.pool.Exec(ctx, "DELETE FROM requests WHERE expires < $1", before)
	if err != nil {
		return 0, fmt.Errorf("prune requests: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// pruneSQL removes a bounded batch of expired nonces.
const pruneSQL = `DELETE FROM nonces WHERE nonce IN (
	SELECT nonce FROM nonces WHERE expires <= $1 LIMIT 64 FOR UPDATE SKIP LOCKED)`

// useSQL records a nonce unless an unexpired use of it exists.
const useSQL = `INSERT INTO nonces (nonce, expires) VALUES ($1, $2)
	ON CONFLICT (nonce) DO UPDATE SET expires = EXCLUDED.expires WHERE nonces.expires <= $3`

// UseNonce implements store.Nonces.
func (s *Store) UseNonce(ctx context.Context, nonce []byte, expires time.Time) error {
	if len(nonce) == 0 {
		return fmt.Errorf("nonce is empty: %w", store.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	now := s.now()
	if _, err := s.pool.Exec(ctx, pruneSQL, now); err != nil {
		return fmt.Errorf("prune nonces: %w", err)
	}
	tag, err := s.pool.Exec(ctx, useSQL, nonce, expires, now)
	if err != nil {
		return fmt.Errorf("use nonce %x: %w", nonce, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("nonce %x: %w", nonce, store.ErrReplay)
	}
	return nil
}

// Publish implements store.Addresses.
func (s *Store) Publish(ctx context.Context, address, account string) error {
	if address == "" {
		return fmt.Errorf("address is empty: %w", store.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, "INSERT INTO addresses (address, account) VALUES ($1, $2) ON CONFLICT DO NOTHING",
		address, account)
	if pgCode(err) == foreignKeyViolation {
		return fmt.Errorf("account %s: %w", account, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("publish %s: %w", address, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	holder, err := s.Lookup(ctx, address)
	if err != nil {
		return fmt.Errorf("publish %s: %w", address, store.ErrConflict) // unpublished meanwhile
	}
	if holder != account {
		return fmt.Errorf("address %s is published by another account: %w", address, store.ErrExists)
	}
	return nil
}

// Unpublish implements store.Addresses.
func (s *Store) Unpublish(ctx context.Context, address, account string) error {
	tag, err := s.pool.Exec(ctx, "DELETE FROM addresses WHERE address = $1 AND account = $2", address, account)
	if err != nil {
		return fmt.Errorf("unpublish %s: %w", address, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("address %s of account %s: %w", address, account, store.ErrNotFound)
	}
	return nil
}

// Lookup implements store.Addresses.
func (s *Store) Lookup(ctx context.Context, address string) (string, error) {
	var account string
	err := s.pool.QueryRow(ctx, "SELECT account FROM addresses WHERE address = $1", address).Scan(&account)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("address %s: %w", address, store.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("lookup %s: %w", address, err)
	}
	return account, nil
}
