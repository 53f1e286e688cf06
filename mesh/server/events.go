package server

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/endymail/endymail/mesh/proto"
)

// hub wakes long polls when an account changes. A change closes the
// account's current channel and installs a fresh one, so a waiter costs one
// goroutine blocked in select and nothing else.
type hub struct {
	mu sync.Mutex
	ch map[string]chan struct{}
}

func (h *hub) init() { h.ch = map[string]chan struct{}{} }

// wait returns a channel closed at the account's next change.
func (h *hub) wait(account string) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.ch[account]
	if c == nil {
		c = make(chan struct{})
		h.ch[account] = c
	}
	return c
}

func (h *hub) notify(account string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c := h.ch[account]; c != nil {
		close(c)
		delete(h.ch, account)
	}
}

// events answers when the account's log head passes after or its request
// revision differs from rev, or when wait runs out.
func (s *Server) events(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	after, err := uintParam(r, "after", 0)
	if err != nil {
		return err
	}
	rev, err := uintParam(r, "rev", 0)
	if err != nil {
		return err
	}
	return s.longPoll(w, r, id, func() (any, bool, time.Time, error) {
		ev, err := s.current(r, id)
		return ev, ev.Head > after || ev.Rev != rev, time.Time{}, err
	})
}

// longPoll answers the account id's long poll (wait=SECONDS): check runs
// at once and again whenever the account changes, or at the time it names
// (zero for none, e.g. a request's expiry), until it says its answer is
// ready or the wait runs out; the answer it gave last is then sent. A client
// that goes away gets nothing. The long polls held per client are limited.
func (s *Server) longPoll(w http.ResponseWriter, r *http.Request, id string, check func() (answer any, ready bool, recheck time.Time, err error)) error {
	wait, err := s.waitParam(r)
	if err != nil {
		return err
	}
	release, err := s.limit.holdWait(s.clientAddr(r))
	if err != nil {
		return err
	}
	defer release()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		changed := s.hub.wait(id)
		answer, ready, recheck, err := check()
		if err != nil {
			return err
		}
		if ready || wait == 0 {
			writeJSON(w, http.StatusOK, answer)
			return nil
		}
		switch sleep(r.Context(), changed, deadline.C, recheck) {
		case woken:
		case timedOut:
			wait = 0
		case gone:
			return nil
		}
	}
}

type wakeReason int

const (
	woken    wakeReason = iota // the account changed, or recheck came
	timedOut                   // the long poll's deadline came
	gone                       // the client went away
)

// sleep waits for the first of changed, deadline, the time recheck (none
// when zero) and the end of ctx.
func sleep(ctx context.Context, changed <-chan struct{}, deadline <-chan time.Time, recheck time.Time) wakeReason {
	var again <-chan time.Time
	if !recheck.IsZero() {
		t := time.NewTimer(time.Until(recheck))
		defer t.Stop()
		again = t.C
	}
	select {
	case <-changed:
		return woken
	case <-again:
		return woken
	case <-deadline:
		return timedOut
	case <-ctx.Done():
		return gone
	}
}

// current reads the account's head and request revision (the number of
// requests plus the number answered: it grows with every request change).
func (s *Server) current(r *http.Request, id string) (proto.Events, error) {
	head, err := s.st.Head(r.Context(), id)
	if err != nil {
		return proto.Events{}, storeErr(err, "account "+id)
	}
	all, err := s.st.Requests(r.Context(), id)
	if err != nil {
		return proto.Events{}, storeErr(err, "requests of "+id)
	}
	ev := proto.Events{Head: head, Rev: uint64(len(all))}
	for _, q := range all {
		if q.State != proto.StatePending {
			ev.Rev++
		}
	}
	return ev, nil
}

func (s *Server) waitParam(r *http.Request) (time.Duration, error) {
	secs, err := uintParam(r, "wait", 0)
	if err != nil {
		return 0, err
	}
	d := time.Duration(secs) * time.Second
	if secs > uint64(s.lim.MaxWait/time.Second) {
		return 0, fmt.Errorf("%w: wait is at most %s", proto.ErrBadRequest, s.lim.MaxWait)
	}
	return d, nil
}
