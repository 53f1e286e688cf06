package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/endymail/endymail/mesh/store"
)

func testBlobs(t *testing.T, h *harness) {
	s := h.store(t, store.Limits{})
	ctx := t.Context()
	newAccount(t, s, acctA, "", 1)
	newAccount(t, s, acctB, "", 1)
	data := []byte("bundle v1 ciphertext")
	must(t, "PutBlob", s.PutBlob(ctx, acctA, "bundle/1", data))
	must(t, "PutBlob identical again", s.PutBlob(ctx, acctA, "bundle/1", bytes.Clone(data)))
	err := s.PutBlob(ctx, acctA, "bundle/1", []byte("bundle v1 ciphertexT"))
	wantErr(t, "PutBlob different data", err, store.ErrExists)
	wantErr(t, "PutBlob empty key", s.PutBlob(ctx, acctA, "", data), store.ErrInvalid)
	must(t, "PutBlob empty data", s.PutBlob(ctx, acctA, "empty", nil))

	got, err := s.Blob(ctx, acctA, "bundle/1")
	must(t, "Blob", err)
	if !bytes.Equal(got, data) {
		t.Errorf("Blob: got %q, want %q", got, data)
	}
	got[0] ^= 0xff // the caller owns the slice
	got, err = s.Blob(ctx, acctA, "bundle/1")
	must(t, "Blob", err)
	if !bytes.Equal(got, data) {
		t.Errorf("Blob after changing a returned slice: got %q, want %q", got, data)
	}
	got, err = s.Blob(ctx, acctA, "empty")
	must(t, "Blob(empty)", err)
	if len(got) != 0 {
		t.Errorf("Blob(empty): got %q, want no bytes", got)
	}
	_, err = s.Blob(ctx, acctB, "bundle/1")
	wantErr(t, "Blob of another account", err, store.ErrNotFound)
	_, err = s.Blob(ctx, acctA, "bundle/2")
	wantErr(t, "Blob missing", err, store.ErrNotFound)
	_, err = s.Blob(ctx, "MACC-NONE", "bundle/1")
	wantErr(t, "Blob of unknown account", err, store.ErrNotFound)
	// The same key under another account is another blob.
	must(t, "PutBlob other account", s.PutBlob(ctx, acctB, "bundle/1", []byte("other")))
}

// request returns a pending request of acctA created at offset minutes.
func request(id string, offset int) store.Request {
	c := created.Add(time.Duration(offset) * time.Minute)
	return store.Request{
		ID:          id,
		Account:     acctA,
		Body:        fmt.Appendf(nil, "signed request %s", id),
		ServerNonce: []byte{1, 2, 3, byte(offset)},
		Created:     c,
		Expires:     c.Add(10 * time.Minute),
	}
}

// sameRequest reports a difference between got and want.
func sameRequest(t *testing.T, got, want store.Request) {
	t.Helper()
	if got.ID != want.ID || got.Account != want.Account || got.State != want.State ||
		!bytes.Equal(got.Body, want.Body) || !bytes.Equal(got.ServerNonce, want.ServerNonce) ||
		!bytes.Equal(got.Answer, want.Answer) ||
		!got.Created.Equal(want.Created) || !got.Expires.Equal(want.Expires) {
		t.Errorf("request %s: got %+v, want %+v", want.ID, got, want)
	}
}

func testRequests(t *testing.T, h *harness) {
	s := h.store(t, store.Limits{})
	ctx := t.Context()
	newAccount(t, s, acctA, "", 1)
	newAccount(t, s, acctB, "", 1)
	r1, r2, r3 := request("r1", 2), request("r2", 0), request("r3", 2)
	for _, r := range []store.Request{r3, r1, r2} {
		must(t, "PutRequest "+r.ID, s.PutRequest(ctx, r))
	}
	wantErr(t, "PutRequest duplicate", s.PutRequest(ctx, r1), store.ErrExists)
	bad := request("", 0)
	wantErr(t, "PutRequest empty ID", s.PutRequest(ctx, bad), store.ErrInvalid)
	bad = request("r9", 0)
	bad.State = "maybe"
	wantErr(t, "PutRequest unknown state", s.PutRequest(ctx, bad), store.ErrInvalid)

	r1.State = store.StatePending // stored for ""
	got, err := s.Request(ctx, acctA, "r1")
	must(t, "Request", err)
	sameRequest(t, got, r1)
	_, err = s.Request(ctx, acctB, "r1")
	wantErr(t, "Request of another account", err, store.ErrNotFound)
	_, err = s.Request(ctx, acctA, "r9")
	wantErr(t, "Request missing", err, store.ErrNotFound)

	all, err := s.Requests(ctx, acctA)
	must(t, "Requests", err)
	var ids []string
	for _, r := range all {
		ids = append(ids, r.ID)
	}
	if fmt.Sprint(ids) != "[r2 r1 r3]" {
		t.Errorf("Requests order: got %v, want [r2 r1 r3] (oldest first, then by ID)", ids)
	}
	none, err := s.Requests(ctx, acctB)
	must(t, "Requests of account without requests", err)
	if len(none) != 0 {
		t.Errorf("Requests of account without requests: got %d, want 0", len(none))
	}
	// The same ID under another account is another request.
	other := request("r1", 0)
	other.Account = acctB
	must(t, "PutRequest same ID other account", s.PutRequest(ctx, other))
}

func testPruneRequests(t *testing.T, h *harness) {
	s := h.store(t, store.Limits{})
	ctx := t.Context()
	newAccount(t, s, acctA, "", 1)
	newAccount(t, s, acctB, "", 1)
	r1, r2, r3 := request("r1", 0), request("r2", 5), request("r3", 20) // expire at +10, +15, +30 min
	for _, r := range []store.Request{r1, r2, r3} {
		must(t, "PutRequest", s.PutRequest(ctx, r))
	}
	must(t, "AnswerRequest", s.AnswerRequest(ctx, acctA, "r1", store.StateApproved, nil))
	rb := request("rb", 0)
	rb.Account = acctB
	must(t, "PutRequest", s.PutRequest(ctx, rb))
	n, err := s.PruneRequests(ctx, r2.Expires.Add(time.Microsecond))
	must(t, "PruneRequests", err)
	if n != 3 {
		t.Errorf("PruneRequests: deleted %d, want 3 (r1, r2 and rb)", n)
	}
	all, err := s.Requests(ctx, acctA)
	must(t, "Requests", err)
	if len(all) != 1 || all[0].ID != "r3" {
		t.Errorf("Requests after pruning: got %d, want only r3", len(all))
	}
	_, err = s.Request(ctx, acctB, "rb")
	wantErr(t, "Request pruned", err, store.ErrNotFound)
	must(t, "PutRequest a pruned ID again", s.PutRequest(ctx, r1))
	n, err = s.PruneRequests(ctx, created)
	must(t, "PruneRequests", err)
	if n != 0 {
		t.Errorf("PruneRequests with nothing expired: deleted %d, want 0", n)
	}
}

func testRequestStateMachine(t *testing.T, h *harness) {
	s := h.store(t, store.Limits{})
	ctx := t.Context()
	newAccount(t, s, acctA, "", 1)
	r1, r2 := request("r1", 0), request("r2", 1)
	must(t, "PutRequest", s.PutRequest(ctx, r1))
	must(t, "PutRequest", s.PutRequest(ctx, r2))

	wantErr(t, "AnswerRequest to pending", s.AnswerRequest(ctx, acctA, "r1", store.StatePending, nil), store.ErrInvalid)
	wantErr(t, "AnswerRequest to unknown state", s.AnswerRequest(ctx, acctA, "r1", "maybe", nil), store.ErrInvalid)
	wantErr(t, "AnswerRequest missing", s.AnswerRequest(ctx, acctA, "r9", store.StateApproved, nil), store.ErrNotFound)

	must(t, "approve r1", s.AnswerRequest(ctx, acctA, "r1", store.StateApproved, nil))
	deny := []byte("signed deny envelope")
	must(t, "deny r2", s.AnswerRequest(ctx, acctA, "r2", store.StateDenied, deny))
	for _, state := range []string{store.StateApproved, store.StateDenied} {
		for _, id := range []string{"r1", "r2"} {
			err := s.AnswerRequest(ctx, acctA, id, state, []byte("late"))
			wantErr(t, fmt.Sprintf("answer %s again with %s", id, state), err, store.ErrConflict)
		}
	}
	r1.State = store.StateApproved
	r2.State, r2.Answer = store.StateDenied, deny
	got, err := s.Request(ctx, acctA, "r1")
	must(t, "Request", err)
	sameRequest(t, got, r1)
	got, err = s.Request(ctx, acctA, "r2")
	must(t, "Request", err)
	sameRequest(t, got, r2)
}

func testConcurrentAnswer(t *testing.T, h *harness) {
	s := h.store(t, store.Limits{})
	newAccount(t, s, acctA, "", 1)
	must(t, "PutRequest", s.PutRequest(t.Context(), request("r1", 0)))
	won := race(t, 8, store.ErrConflict, func(i int) error {
		state := store.StateApproved
		if i%2 == 1 {
			state = store.StateDenied
		}
		return s.AnswerRequest(t.Context(), acctA, "r1", state, fmt.Appendf(nil, "answer %d", i))
	})
	if won != 1 {
		t.Errorf("concurrent AnswerRequest: %d succeeded, want 1", won)
	}
}

func testNonces(t *testing.T, h *harness) {
	s := h.store(t, store.Limits{})
	ctx := t.Context()
	later := time.Now().Add(time.Hour)
	must(t, "UseNonce", s.UseNonce(ctx, []byte("n1"), later))
	wantErr(t, "UseNonce again", s.UseNonce(ctx, []byte("n1"), later), store.ErrReplay)
	wantErr(t, "UseNonce again, other expiry", s.UseNonce(ctx, []byte("n1"), later.Add(time.Hour)), store.ErrReplay)
	must(t, "UseNonce other value", s.UseNonce(ctx, []byte("n2"), later))
	must(t, "UseNonce binary value", s.UseNonce(ctx, []byte{0, 0xff, 'n', '1'}, later))
	wantErr(t, "UseNonce empty", s.UseNonce(ctx, nil, later), store.ErrInvalid)
}

func testNonceExpiry(t *testing.T, h *harness) {
	s := h.store(t, store.Limits{})
	ctx := t.Context()
	past := time.Now().Add(-time.Second)
	// A use that has expired no longer counts.
	must(t, "UseNonce expired", s.UseNonce(ctx, []byte("old"), past))
	must(t, "UseNonce expired again", s.UseNonce(ctx, []byte("old"), past))
	soon := time.Now().Add(300 * time.Millisecond)
	must(t, "UseNonce", s.UseNonce(ctx, []byte("soon"), soon))
	wantErr(t, "UseNonce before expiry", s.UseNonce(ctx, []byte("soon"), soon), store.ErrReplay)
	// Many expired records must not get in the way of new ones.
	for i := range 300 {
		must(t, "UseNonce expired", s.UseNonce(ctx, fmt.Appendf(nil, "x%d", i), past))
	}
	time.Sleep(time.Until(soon) + 10*time.Millisecond)
	must(t, "UseNonce after expiry", s.UseNonce(ctx, []byte("soon"), time.Now().Add(time.Hour)))
	wantErr(t, "UseNonce after renewed use", s.UseNonce(ctx, []byte("soon"), time.Now().Add(time.Hour)), store.ErrReplay)
}

func testConcurrentNonce(t *testing.T, h *harness) {
	s := h.store(t, store.Limits{})
	later := time.Now().Add(time.Hour)
	won := race(t, 8, store.ErrReplay, func(int) error {
		return s.UseNonce(t.Context(), []byte("contested"), later)
	})
	if won != 1 {
		t.Errorf("concurrent UseNonce: %d succeeded, want 1", won)
	}
}

func testAddresses(t *testing.T, h *harness) {
	s := h.store(t, store.Limits{})
	ctx := t.Context()
	newAccount(t, s, acctA, "", 1)
	newAccount(t, s, acctB, "", 1)
	must(t, "Publish", s.Publish(ctx, "alice@example.com", acctA))
	must(t, "Publish again", s.Publish(ctx, "alice@example.com", acctA))
	must(t, "Publish second address", s.Publish(ctx, "alice@example.org", acctA))
	wantErr(t, "Publish taken address", s.Publish(ctx, "alice@example.com", acctB), store.ErrExists)
	wantErr(t, "Publish empty address", s.Publish(ctx, "", acctA), store.ErrInvalid)
	got, err := s.Lookup(ctx, "alice@example.com")
	must(t, "Lookup", err)
	if got != acctA {
		t.Errorf("Lookup: got %q, want %q", got, acctA)
	}
	_, err = s.Lookup(ctx, "bob@example.com")
	wantErr(t, "Lookup unpublished", err, store.ErrNotFound)
	wantErr(t, "Unpublish by another account", s.Unpublish(ctx, "alice@example.com", acctB), store.ErrNotFound)
	wantErr(t, "Unpublish unpublished", s.Unpublish(ctx, "bob@example.com", acctA), store.ErrNotFound)
	must(t, "Unpublish", s.Unpublish(ctx, "alice@example.com", acctA))
	_, err = s.Lookup(ctx, "alice@example.com")
	wantErr(t, "Lookup after Unpublish", err, store.ErrNotFound)
	must(t, "Publish freed address", s.Publish(ctx, "alice@example.com", acctB))
	got, err = s.Lookup(ctx, "alice@example.org")
	must(t, "Lookup other address", err)
	if got != acctA {
		t.Errorf("Lookup other address: got %q, want %q", got, acctA)
	}
}
