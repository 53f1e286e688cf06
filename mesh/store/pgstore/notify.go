package pgstore

import (
	"context"
	"time"

	"github.com/endymail/endymail/mesh/store"
)

// channel is the PostgreSQL LISTEN/NOTIFY channel of account changes.
const channel = "endymail_accounts"

var _ store.Notifier = (*Store)(nil)

// Notify sends a change notice for account to every instance (pg_notify).
func (s *Store) Notify(ctx context.Context, account string) error {
	_, err := s.pool.Exec(ctx, "SELECT pg_notify($1, $2)", channel, account)
	return err
}

// Subscribe listens for change notices on a dedicated connection and calls
// fn for each, reconnecting with backoff, until ctx ends.
func (s *Store) Subscribe(ctx context.Context, fn func(account string)) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		if err := s.listen(ctx, fn); err != nil && ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 10*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
	}
}

func (s *Store) listen(ctx context.Context, fn func(account string)) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return err
	}
	defer conn.Exec(context.Background(), "UNLISTEN "+channel)
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return err
		}
		fn(n.Payload)
	}
}
