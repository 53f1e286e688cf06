package storetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/endymail/endymail/mesh/store"
)

// pending returns a request of acctA that expires at expires.
func pending(id string, expires time.Time) store.Request {
	return store.Request{ID: id, Account: acctA, Body: []byte(id), Created: created, Expires: expires}
}

func testUsage(t *testing.T, h *harness) {
	s := h.store(t, store.Limits{})
	ctx := t.Context()
	newAccount(t, s, acctA, "", 2)
	newAccount(t, s, acctB, "", 1)
	must(t, "Append", s.Append(ctx, acctA, 2, make([]byte, 1000)))
	must(t, "PutBlob", s.PutBlob(ctx, acctA, "b1", make([]byte, 300)))
	must(t, "PutBlob identical", s.PutBlob(ctx, acctA, "b1", make([]byte, 300)))
	must(t, "PutBlob", s.PutBlob(ctx, acctA, "b2", make([]byte, 20)))
	wantErr(t, "PutBlob different", s.PutBlob(ctx, acctA, "b2", make([]byte, 21)), store.ErrExists)
	now := time.Now()
	must(t, "PutRequest", s.PutRequest(ctx, pending("live1", now.Add(time.Hour))))
	must(t, "PutRequest", s.PutRequest(ctx, pending("live2", now.Add(time.Hour))))
	must(t, "PutRequest", s.PutRequest(ctx, pending("expired", now.Add(-time.Second))))
	must(t, "AnswerRequest", s.AnswerRequest(ctx, acctA, "live2", store.StateDenied, []byte("no")))

	want := store.Usage{
		Entries:    3,
		EntryBytes: int64(len(entry(acctA, 0)) + len(entry(acctA, 1)) + 1000),
		BlobBytes:  320,
		Requests:   1,
	}
	got, err := s.Usage(ctx, acctA)
	must(t, "Usage", err)
	if got != want {
		t.Errorf("Usage: got %+v, want %+v", got, want)
	}
	got, err = s.Usage(ctx, acctB)
	must(t, "Usage", err)
	if want := (store.Usage{Entries: 1, EntryBytes: int64(len(entry(acctB, 0)))}); got != want {
		t.Errorf("Usage of second account: got %+v, want %+v", got, want)
	}
}

func testQuota(t *testing.T, h *harness) {
	lim := store.Limits{Entries: 3, EntryBytes: 100, BlobBytes: 50, Requests: 2}
	s := h.store(t, lim)
	ctx := t.Context()
	err := s.CreateAccount(ctx, store.Account{ID: acctA, Created: created}, entries(acctA, 4))
	wantErr(t, "CreateAccount over entry limit", err, store.ErrQuota)
	_, err = s.Account(ctx, acctA)
	wantErr(t, "Account after refused create", err, store.ErrNotFound)

	newAccount(t, s, acctA, "", 2)
	must(t, "Append within limit", s.Append(ctx, acctA, 2, []byte("x")))
	wantErr(t, "Append over entry limit", s.Append(ctx, acctA, 3, []byte("x")), store.ErrQuota)
	newAccount(t, s, acctB, "", 1)
	wantErr(t, "Append over byte limit", s.Append(ctx, acctB, 1, make([]byte, 100)), store.ErrQuota)
	head, err := s.Head(ctx, acctB)
	must(t, "Head", err)
	if head != 0 {
		t.Errorf("Head after refused append: got %d, want 0", head)
	}

	must(t, "PutBlob within limit", s.PutBlob(ctx, acctA, "b1", make([]byte, 40)))
	wantErr(t, "PutBlob over limit", s.PutBlob(ctx, acctA, "b2", make([]byte, 11)), store.ErrQuota)
	must(t, "PutBlob identical at limit", s.PutBlob(ctx, acctA, "b1", make([]byte, 40)))
	_, err = s.Blob(ctx, acctA, "b2")
	wantErr(t, "Blob refused", err, store.ErrNotFound)

	now := time.Now()
	must(t, "PutRequest 1", s.PutRequest(ctx, pending("r1", now.Add(time.Hour))))
	must(t, "PutRequest 2", s.PutRequest(ctx, pending("r2", now.Add(time.Hour))))
	wantErr(t, "PutRequest over limit", s.PutRequest(ctx, pending("r3", now.Add(time.Hour))), store.ErrQuota)
	must(t, "PutRequest already expired", s.PutRequest(ctx, pending("old", now.Add(-time.Second))))
	must(t, "AnswerRequest", s.AnswerRequest(ctx, acctA, "r1", store.StateApproved, nil))
	must(t, "PutRequest after an answer", s.PutRequest(ctx, pending("r3", now.Add(time.Hour))))

	u, err := s.Usage(ctx, acctA)
	must(t, "Usage", err)
	if u.Entries != 3 || u.BlobBytes != 40 || u.Requests != 2 {
		t.Errorf("Usage at the limits: got %+v, want 3 entries, 40 blob bytes, 2 requests", u)
	}
}

func testCancelled(t *testing.T, h *harness) {
	s := h.store(t, store.Limits{})
	newAccount(t, s, acctA, "", 1)
	must(t, "PutRequest", s.PutRequest(t.Context(), request("r1", 0)))
	ctx := cancelled()
	later := time.Now().Add(time.Hour)
	_, errAccount := s.Account(ctx, acctA)
	_, errEntries := s.Entries(ctx, acctA, 0, 0)
	_, errHead := s.Head(ctx, acctA)
	_, errBlob := s.Blob(ctx, acctA, "b")
	_, errRequests := s.Requests(ctx, acctA)
	_, errUsage := s.Usage(ctx, acctA)
	_, errLookup := s.Lookup(ctx, "a@example.com")
	_, errPrune := s.PruneRequests(ctx, later)
	for what, err := range map[string]error{
		"CreateAccount": s.CreateAccount(ctx, store.Account{ID: acctB, Created: created}, entries(acctB, 1)),
		"Append":        s.Append(ctx, acctA, 1, []byte("x")),
		"PutBlob":       s.PutBlob(ctx, acctA, "b", []byte("x")),
		"PutRequest":    s.PutRequest(ctx, request("r2", 0)),
		"AnswerRequest": s.AnswerRequest(ctx, acctA, "r1", store.StateApproved, nil),
		"UseNonce":      s.UseNonce(ctx, []byte("n"), later),
		"Publish":       s.Publish(ctx, "a@example.com", acctA),
		"Account":       errAccount,
		"Entries":       errEntries,
		"Head":          errHead,
		"Blob":          errBlob,
		"Requests":      errRequests,
		"Usage":         errUsage,
		"Lookup":        errLookup,
		"PruneRequests": errPrune,
	} {
		wantErr(t, what+" with a cancelled context", err, context.Canceled)
	}
	// Nothing changed.
	ctx = t.Context()
	_, err := s.Account(ctx, acctB)
	wantErr(t, "Account after cancelled create", err, store.ErrNotFound)
	wantEntries(t, s, acctA, 0, entries(acctA, 1))
	_, err = s.Blob(ctx, acctA, "b")
	wantErr(t, "Blob after cancelled put", err, store.ErrNotFound)
	r, err := s.Request(ctx, acctA, "r1")
	must(t, "Request", err)
	if r.State != store.StatePending {
		t.Errorf("request after cancelled answer: got state %q, want %q", r.State, store.StatePending)
	}
	must(t, "UseNonce after cancelled use", s.UseNonce(ctx, []byte("n"), later))
	_, err = s.Lookup(ctx, "a@example.com")
	wantErr(t, "Lookup after cancelled publish", err, store.ErrNotFound)
}

func testReopen(t *testing.T, h *harness) {
	s := h.store(t, store.Limits{})
	ctx := t.Context()
	later := time.Now().Add(time.Hour)
	newAccount(t, s, acctA, "alice@example.com", 2)
	must(t, "Append", s.Append(ctx, acctA, 2, entry(acctA, 2)))
	must(t, "PutBlob", s.PutBlob(ctx, acctA, "b", []byte("blob")))
	r := request("r1", 0)
	must(t, "PutRequest", s.PutRequest(ctx, r))
	must(t, "AnswerRequest", s.AnswerRequest(ctx, acctA, "r1", store.StateDenied, []byte("deny")))
	must(t, "UseNonce", s.UseNonce(ctx, []byte("n"), later))
	must(t, "Publish", s.Publish(ctx, "alice@example.org", acctA))
	before, err := s.Usage(ctx, acctA)
	must(t, "Usage", err)
	must(t, "Close", s.Close())

	s = h.store(t, store.Limits{})
	a, err := s.AccountByHandle(ctx, "alice@example.com")
	must(t, "AccountByHandle after reopen", err)
	if a.ID != acctA || !a.Created.Equal(created) {
		t.Errorf("account after reopen: got %+v, want ID %s created %v", a, acctA, created)
	}
	wantEntries(t, s, acctA, 0, entries(acctA, 3))
	wantErr(t, "Append(2) after reopen", s.Append(ctx, acctA, 2, []byte("x")), store.ErrConflict)
	must(t, "Append(3) after reopen", s.Append(ctx, acctA, 3, entry(acctA, 3)))
	b, err := s.Blob(ctx, acctA, "b")
	must(t, "Blob after reopen", err)
	if !bytes.Equal(b, []byte("blob")) {
		t.Errorf("blob after reopen: got %q, want %q", b, "blob")
	}
	r.State, r.Answer = store.StateDenied, []byte("deny")
	got, err := s.Request(ctx, acctA, "r1")
	must(t, "Request after reopen", err)
	sameRequest(t, got, r)
	wantErr(t, "UseNonce after reopen", s.UseNonce(ctx, []byte("n"), later), store.ErrReplay)
	acct, err := s.Lookup(ctx, "alice@example.org")
	must(t, "Lookup after reopen", err)
	if acct != acctA {
		t.Errorf("Lookup after reopen: got %q, want %q", acct, acctA)
	}
	after, err := s.Usage(ctx, acctA)
	must(t, "Usage after reopen", err)
	before.Entries++
	before.EntryBytes += int64(len(entry(acctA, 3)))
	if after != before {
		t.Errorf("Usage after reopen and one append: got %+v, want %+v", after, before)
	}
}

func testClosed(t *testing.T, h *harness) {
	s := h.store(t, store.Limits{})
	newAccount(t, s, acctA, "", 1)
	must(t, "Close", s.Close())
	if _, err := s.Head(context.Background(), acctA); err == nil {
		t.Error("Head after Close: got no error")
	}
	if err := s.Append(context.Background(), acctA, 1, []byte("x")); err == nil {
		t.Error("Append after Close: got no error")
	}
}
