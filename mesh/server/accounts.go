package server

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/endymail/endymail/mesh/proto"
	"github.com/endymail/endymail/mesh/store"
)

// acctState is the service's verified copy of one account, refreshed from
// the store before use so that many instances may share one store.
type acctState struct {
	mu sync.Mutex // serialises appends within this instance
	st *proto.State
}

// maxBatch caps the entries of one append.
const maxBatch = 16

// maxCachedStates bounds the verified states kept in memory.
const maxCachedStates = 4096

// state returns the account's verified state, brought up to the store's head.
// The caller must hold a.mu.
func (s *Server) refresh(ctx context.Context, id string, a *acctState) error {
	for {
		from := uint64(0)
		if a.st != nil {
			from = a.st.Seq + 1
		}
		raw, err := s.st.Entries(ctx, id, from, 256)
		if err != nil {
			return storeErr(err, "account "+id)
		}
		if len(raw) == 0 {
			if a.st == nil {
				return fmt.Errorf("%w: account %s", proto.ErrNotFound, id)
			}
			return nil
		}
		for _, b := range raw {
			env, err := proto.ParseEnvelope(b)
			if err == nil {
				if a.st == nil {
					a.st, err = proto.NewState(env)
				} else {
					err = a.st.Apply(env)
				}
			}
			if err != nil {
				// Only verified entries are ever stored: this is corruption.
				return fmt.Errorf("%w: stored log of %s does not verify: %v", proto.ErrServer, id, err)
			}
		}
	}
}

// account locks and refreshes the account's state. The caller must call the
// returned unlock.
func (s *Server) account(ctx context.Context, id string) (*acctState, func(), error) {
	s.mu.Lock()
	a := s.states[id]
	if a == nil {
		if len(s.states) >= maxCachedStates {
			// Drop an arbitrary entry: it is only a cache (a holder keeps
			// its pointer; the store's sequence check keeps appends safe).
			for k := range s.states {
				delete(s.states, k)
				break
			}
		}
		a = &acctState{}
		s.states[id] = a
	}
	s.mu.Unlock()
	a.mu.Lock()
	if err := s.refresh(ctx, id, a); err != nil {
		a.mu.Unlock()
		return nil, nil, err
	}
	return a, a.mu.Unlock, nil
}

// checkPoW verifies the request's proof of work against body and returns the
// ticket to spend once everything else has been checked.
func (s *Server) checkPoW(r *http.Request, purpose string, body []byte) (ticketID []byte, spend func(context.Context) error, err error) {
	h := r.Header.Get(proto.PoWHeader)
	token, sol, ok := strings.Cut(h, ".")
	if h == "" || !ok {
		return nil, nil, fmt.Errorf("%w: missing %s header (get a challenge from /v1/challenge)", proto.ErrPoW, proto.PoWHeader)
	}
	solution, err := base64.RawURLEncoding.DecodeString(sol)
	if err != nil || len(solution) > 64 {
		return nil, nil, fmt.Errorf("%w: malformed solution", proto.ErrPoW)
	}
	bind := sha256.Sum256(body)
	t, err := s.pow.Verify(purpose, token, bind[:], solution)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", proto.ErrPoW, err)
	}
	return t.ID, func(ctx context.Context) error {
		return storeErr(s.st.UseNonce(ctx, t.ID, t.Expires), "proof of work")
	}, nil
}

func (s *Server) createAccount(w http.ResponseWriter, r *http.Request) error {
	var req proto.CreateAccount
	body, err := decode(w, r, s.lim.MaxBody, &req)
	if err != nil {
		return err
	}
	_, spend, err := s.checkPoW(r, proto.PurposeAccount, body)
	if err != nil {
		return err
	}
	if len(req.Entries) < 2 || len(req.Entries) > maxBatch {
		return fmt.Errorf("%w: a new account needs genesis and its first admin device", proto.ErrBadRequest)
	}
	st, err := proto.Replay(req.Entries)
	if err != nil {
		return fmt.Errorf("%w: %v", proto.ErrRejected, err)
	}
	if len(st.Admins()) == 0 {
		return fmt.Errorf("%w: a new account needs an admin device", proto.ErrRejected)
	}
	if !s.limit.account(st.Account) {
		return fmt.Errorf("%w: account %s", proto.ErrRateLimit, st.Account)
	}
	if err := spend(r.Context()); err != nil {
		return err
	}
	raw := make([][]byte, len(req.Entries))
	for i, e := range req.Entries {
		raw[i] = e.Marshal()
	}
	acct := store.Account{ID: st.Account, Handle: st.Handle, Created: s.now()}
	if err := s.st.CreateAccount(r.Context(), acct, raw); err != nil {
		return storeErr(err, "account "+st.Handle)
	}
	s.log.Info("account created", "account", st.Account, "handle", st.Handle)
	writeJSON(w, http.StatusCreated, proto.AccountInfo{Account: st.Account, Handle: st.Handle, Head: st.Seq})
	return nil
}

func (s *Server) findAccount(w http.ResponseWriter, r *http.Request) error {
	handle, err := proto.NormalizeAddress(r.URL.Query().Get("handle"))
	if err != nil {
		return fmt.Errorf("%w: %v", proto.ErrBadRequest, err)
	}
	a, err := s.st.AccountByHandle(r.Context(), handle)
	if err != nil {
		return storeErr(err, "account for "+handle)
	}
	head, err := s.st.Head(r.Context(), a.ID)
	if err != nil {
		return storeErr(err, "account "+a.ID)
	}
	writeJSON(w, http.StatusOK, proto.AccountInfo{Account: a.ID, Handle: a.Handle, Head: head})
	return nil
}

func (s *Server) readLog(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	from, err := uintParam(r, "from", 0)
	if err != nil {
		return err
	}
	head, err := s.st.Head(r.Context(), id)
	if err != nil {
		return storeErr(err, "account "+id)
	}
	raw, err := s.st.Entries(r.Context(), id, from, 512)
	if err != nil {
		return storeErr(err, "log of "+id)
	}
	page := proto.LogPage{From: from, Head: head, Entries: make([]proto.Envelope, 0, len(raw))}
	for _, b := range raw {
		env, err := proto.ParseEnvelope(b)
		if err != nil {
			return fmt.Errorf("%w: stored entry: %v", proto.ErrServer, err)
		}
		page.Entries = append(page.Entries, env)
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) appendLog(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var req proto.AppendEntries
	if _, err := decode(w, r, s.lim.MaxBody, &req); err != nil {
		return err
	}
	if len(req.Entries) == 0 || len(req.Entries) > maxBatch {
		return fmt.Errorf("%w: append 1 to %d entries", proto.ErrBadRequest, maxBatch)
	}
	if !s.limit.account(id) {
		return fmt.Errorf("%w: account %s", proto.ErrRateLimit, id)
	}
	a, unlock, err := s.account(r.Context(), id)
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.checkAppend(r.Context(), id, a.st, req.Entries); err != nil {
		return err
	}
	for _, env := range req.Entries {
		if err := a.st.Apply(env); err != nil {
			return fmt.Errorf("%w: %v", proto.ErrServer, err) // verified above on a clone
		}
		if err := s.st.Append(r.Context(), id, a.st.Seq, env.Marshal()); err != nil {
			a.st = nil // replay from the store on next use
			return storeErr(err, fmt.Sprintf("entry %d", a.st.Seq))
		}
		s.index(r.Context(), id, a.st, env)
	}
	s.changed(r.Context(), id)
	writeJSON(w, http.StatusOK, proto.AccountInfo{Account: id, Handle: a.st.Handle, Head: a.st.Seq})
	return nil
}

// checkAppend verifies a batch on a copy of the state, with quotas and the
// rule that a bundle entry names a blob the service already holds.
func (s *Server) checkAppend(ctx context.Context, id string, st *proto.State, entries []proto.Envelope) error {
	u, err := s.st.Usage(ctx, id)
	if err != nil {
		return storeErr(err, "usage of "+id)
	}
	if u.Entries+len(entries) > s.lim.MaxEntries {
		return fmt.Errorf("%w: account %s holds %d log entries, limit %d", proto.ErrQuota, id, u.Entries, s.lim.MaxEntries)
	}
	trial := st.Clone()
	for _, env := range entries {
		if err := trial.Apply(env); err != nil {
			if errors.Is(err, proto.ErrSequence) || errors.Is(err, proto.ErrFork) {
				return fmt.Errorf("%w: %v", proto.ErrConflict, err)
			}
			return fmt.Errorf("%w: %v", proto.ErrRejected, err)
		}
		e, _ := proto.ParseEntry(env.Payload)
		if e.Bundle != nil {
			if _, err := s.st.Blob(ctx, id, e.Bundle.Digest); err != nil {
				return fmt.Errorf("%w: bundle %s version %d: upload blob %s first", proto.ErrConflict, e.Bundle.Name, e.Bundle.Version, e.Bundle.Digest)
			}
		}
	}
	return nil
}

// index keeps the address index for public key lookups current.
func (s *Server) index(ctx context.Context, id string, st *proto.State, env proto.Envelope) {
	e, err := proto.ParseEntry(env.Payload)
	if err != nil {
		return
	}
	switch {
	case e.Publish != nil:
		err = s.st.Publish(ctx, e.Publish.Address, id)
	case e.Unpublish != nil:
		err = s.st.Unpublish(ctx, e.Unpublish.Address, id)
	}
	if err != nil {
		s.log.Warn("address index", "account", id, "err", err)
	}
}

func uintParam(r *http.Request, name string, def uint64) (uint64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: parameter %s: %v", proto.ErrBadRequest, name, err)
	}
	return n, nil
}
