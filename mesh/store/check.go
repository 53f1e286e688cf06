package store

import (
	"fmt"
	"time"
)

// The helpers below hold the argument checks and the quota rule that every
// implementation shares, so that the implementations agree by construction.

// CheckAccount returns an error wrapping ErrInvalid when a and entries cannot
// be stored by CreateAccount.
func CheckAccount(a Account, entries [][]byte) error {
	if a.ID == "" {
		return fmt.Errorf("account id is empty: %w", ErrInvalid)
	}
	if len(entries) == 0 {
		return fmt.Errorf("account %s has no genesis entry: %w", a.ID, ErrInvalid)
	}
	return nil
}

// CheckRequest returns r ready to store (an empty state becomes
// StatePending), or an error wrapping ErrInvalid.
func CheckRequest(r Request) (Request, error) {
	if r.ID == "" || r.Account == "" {
		return r, fmt.Errorf("request id or account is empty: %w", ErrInvalid)
	}
	if r.State == "" {
		r.State = StatePending
	}
	switch r.State {
	case StatePending, StateApproved, StateDenied:
		return r, nil
	}
	return r, fmt.Errorf("request state %q: %w", r.State, ErrInvalid)
}

// CheckAnswer returns an error wrapping ErrInvalid unless state is a final
// answer (StateApproved or StateDenied).
func CheckAnswer(state string) error {
	if state != StateApproved && state != StateDenied {
		return fmt.Errorf("answer state %q: %w", state, ErrInvalid)
	}
	return nil
}

// Counts reports whether r counts towards Usage.Requests at time now: it is
// pending and not yet expired.
func (r Request) Counts(now time.Time) bool {
	return r.State == StatePending && now.Before(r.Expires)
}

// Check returns an error wrapping ErrQuota when u exceeds l in any field.
func (l Limits) Check(u Usage) error {
	switch {
	case l.Entries > 0 && u.Entries > l.Entries:
		return fmt.Errorf("%d log entries, limit %d: %w", u.Entries, l.Entries, ErrQuota)
	case l.EntryBytes > 0 && u.EntryBytes > l.EntryBytes:
		return fmt.Errorf("%d bytes of log entries, limit %d: %w", u.EntryBytes, l.EntryBytes, ErrQuota)
	case l.BlobBytes > 0 && u.BlobBytes > l.BlobBytes:
		return fmt.Errorf("%d bytes of blobs, limit %d: %w", u.BlobBytes, l.BlobBytes, ErrQuota)
	case l.Requests > 0 && u.Requests > l.Requests:
		return fmt.Errorf("%d pending requests, limit %d: %w", u.Requests, l.Requests, ErrQuota)
	}
	return nil
}
