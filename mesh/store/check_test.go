package store

import (
	"errors"
	"testing"
	"time"
)

func TestLimitsCheck(t *testing.T) {
	lim := Limits{Entries: 10, EntryBytes: 100, BlobBytes: 50, Requests: 2}
	for _, c := range []struct {
		u    Usage
		want error
	}{
		{Usage{}, nil},
		{Usage{Entries: 10, EntryBytes: 100, BlobBytes: 50, Requests: 2}, nil},
		{Usage{Entries: 11}, ErrQuota},
		{Usage{EntryBytes: 101}, ErrQuota},
		{Usage{BlobBytes: 51}, ErrQuota},
		{Usage{Requests: 3}, ErrQuota},
	} {
		if err := lim.Check(c.u); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("Check(%+v): got %v, want %v", c.u, err, c.want)
		}
	}
	if err := (Limits{}).Check(Usage{Entries: 1 << 30, EntryBytes: 1 << 40, BlobBytes: 1 << 40, Requests: 1 << 20}); err != nil {
		t.Errorf("zero Limits: got %v, want no limit", err)
	}
}

func TestCheckRequest(t *testing.T) {
	r, err := CheckRequest(Request{ID: "r", Account: "a"})
	if err != nil || r.State != StatePending {
		t.Errorf("CheckRequest without state: got %q, %v; want %q, nil", r.State, err, StatePending)
	}
	for _, bad := range []Request{{Account: "a"}, {ID: "r"}, {ID: "r", Account: "a", State: "maybe"}} {
		if _, err := CheckRequest(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckRequest(%+v): got %v, want %v", bad, err, ErrInvalid)
		}
	}
	if err := CheckAnswer(StatePending); !errors.Is(err, ErrInvalid) {
		t.Errorf("CheckAnswer(pending): got %v, want %v", err, ErrInvalid)
	}
	if err := CheckAccount(Account{ID: "a"}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("CheckAccount without entries: got %v, want %v", err, ErrInvalid)
	}
}

func TestRequestCounts(t *testing.T) {
	now := time.Now()
	for _, c := range []struct {
		r    Request
		want bool
	}{
		{Request{State: StatePending, Expires: now.Add(time.Second)}, true},
		{Request{State: StatePending, Expires: now}, false},
		{Request{State: StateDenied, Expires: now.Add(time.Second)}, false},
	} {
		if got := c.r.Counts(now); got != c.want {
			t.Errorf("Counts(%+v): got %v, want %v", c.r, got, c.want)
		}
	}
}
