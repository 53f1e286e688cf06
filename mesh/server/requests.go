package server

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/endymail/endymail/mesh/proto"
	"github.com/endymail/endymail/mesh/store"
)

// clockSkew is how far a request's own time may be from the service's.
const clockSkew = 10 * time.Minute

func (s *Server) postRequest(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var env proto.Envelope
	body, err := decode(w, r, s.lim.MaxBody, &env)
	if err != nil {
		return err
	}
	_, spend, err := s.checkPoW(r, proto.PurposeConnect, body)
	if err != nil {
		return err
	}
	req, err := proto.ParseConnectRequest(env)
	if err != nil {
		return fmt.Errorf("%w: %v", proto.ErrRejected, err)
	}
	now := s.now()
	if req.Account != id {
		return fmt.Errorf("%w: request names account %s", proto.ErrRejected, req.Account)
	}
	if d := req.Time.Sub(now); d > clockSkew || d < -clockSkew {
		return fmt.Errorf("%w: request time %s is off by %s", proto.ErrRejected, req.Time.Format(time.RFC3339), d.Round(time.Second))
	}
	a, unlock, err := s.account(r.Context(), id)
	if err != nil {
		return err
	}
	defer unlock()
	if a.st.Devices[req.Device.ID()] != nil || a.st.Removed[req.Device.ID()] {
		return fmt.Errorf("%w: device %s is already known to the account", proto.ErrConflict, req.Device.ID())
	}
	if !s.limit.account(id) {
		return fmt.Errorf("%w: account %s", proto.ErrRateLimit, id)
	}
	pending, err := s.pending(r, id)
	if err != nil {
		return err
	}
	if pending >= s.lim.MaxPending {
		return fmt.Errorf("%w: account %s has %d pending connection requests", proto.ErrQuota, id, pending)
	}
	if err := spend(r.Context()); err != nil {
		return err
	}
	sr := store.Request{
		ID: randomID(), Account: id, Body: env.Marshal(), ServerNonce: randomBytes(32),
		Created: now, Expires: now.Add(s.lim.RequestTTL), State: proto.StatePending,
	}
	if err := s.st.PutRequest(r.Context(), sr); err != nil {
		return storeErr(err, "connection request")
	}
	s.prune(r.Context())
	s.log.Info("connection request", "account", id, "request", sr.ID, "device", req.Device.ID(), "name", req.Device.Name)
	s.changed(r.Context(), id)
	info, _ := s.info(sr)
	writeJSON(w, http.StatusCreated, info)
	return nil
}

// pending counts the account's unexpired pending requests.
func (s *Server) pending(r *http.Request, id string) (int, error) {
	all, err := s.st.Requests(r.Context(), id)
	if err != nil {
		return 0, storeErr(err, "requests of "+id)
	}
	n := 0
	for _, q := range all {
		if q.State == proto.StatePending && s.now().Before(q.Expires) {
			n++
		}
	}
	return n, nil
}

// info converts a stored request, reporting expiry.
func (s *Server) info(q store.Request) (proto.RequestInfo, error) {
	env, err := proto.ParseEnvelope(q.Body)
	if err != nil {
		return proto.RequestInfo{}, fmt.Errorf("%w: stored request: %v", proto.ErrServer, err)
	}
	ri := proto.RequestInfo{ID: q.ID, Request: env, ServerNonce: q.ServerNonce, Created: q.Created, Expires: q.Expires, State: q.State}
	if q.State == proto.StatePending && !s.now().Before(q.Expires) {
		ri.State = proto.StateExpired
	}
	if q.Answer != nil {
		ans, err := proto.ParseEnvelope(q.Answer)
		if err != nil {
			return proto.RequestInfo{}, fmt.Errorf("%w: stored answer: %v", proto.ErrServer, err)
		}
		ri.Answer = &ans
	}
	return ri, nil
}

func (s *Server) listRequests(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := s.st.Account(r.Context(), id); err != nil {
		return storeErr(err, "account "+id)
	}
	all, err := s.st.Requests(r.Context(), id)
	if err != nil {
		return storeErr(err, "requests of "+id)
	}
	list := proto.RequestList{Requests: []proto.RequestInfo{}}
	for _, q := range all {
		ri, err := s.info(q)
		if err != nil {
			return err
		}
		list.Requests = append(list.Requests, ri)
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// getRequest answers a request's state, waiting while it is pending when the
// caller asks to (wait=SECONDS); an expiring request is answered at once.
func (s *Server) getRequest(w http.ResponseWriter, r *http.Request) error {
	id, rid := r.PathValue("id"), r.PathValue("rid")
	return s.longPoll(w, r, id, func() (any, bool, time.Time, error) {
		q, err := s.st.Request(r.Context(), id, rid)
		if err != nil {
			return nil, false, time.Time{}, storeErr(err, "request "+rid)
		}
		ri, err := s.info(q)
		return ri, ri.State != proto.StatePending, q.Expires.Add(time.Millisecond), err
	})
}

func (s *Server) answerRequest(w http.ResponseWriter, r *http.Request) error {
	id, rid := r.PathValue("id"), r.PathValue("rid")
	var env proto.Envelope
	if _, err := decode(w, r, s.lim.MaxBody, &env); err != nil {
		return err
	}
	ans, err := proto.ParseAnswer(env.Payload)
	if err != nil {
		return fmt.Errorf("%w: %v", proto.ErrBadRequest, err)
	}
	a, unlock, err := s.account(r.Context(), id)
	if err != nil {
		return err
	}
	defer unlock()
	if ans.Account != id || ans.Request != rid {
		return fmt.Errorf("%w: answer names another account or request", proto.ErrRejected)
	}
	key, ok := a.st.SignerKey(ans.Signer)
	if !ok {
		return fmt.Errorf("%w: answer signed by %s, not an admin of the account", proto.ErrRejected, ans.Signer)
	}
	if err := env.Verify(proto.ContextAnswer, key); err != nil {
		return fmt.Errorf("%w: answer: %v", proto.ErrRejected, err)
	}
	q, err := s.st.Request(r.Context(), id, rid)
	if err != nil {
		return storeErr(err, "request "+rid)
	}
	creq, err := s.requestBody(q)
	if err != nil {
		return err
	}
	if string(ans.ClientNonce) != string(creq.ClientNonce) {
		return fmt.Errorf("%w: answer is for another request (client nonce differs)", proto.ErrRejected)
	}
	state := proto.StateDenied
	if ans.Approve {
		d := a.st.Devices[creq.Device.ID()]
		if d == nil || d.Request == nil || d.Request.ID != rid {
			return fmt.Errorf("%w: approve only after the device-add entry for request %s is in the log", proto.ErrConflict, rid)
		}
		state = proto.StateApproved
	}
	if err := s.st.AnswerRequest(r.Context(), id, rid, state, env.Marshal()); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("%w: request %s was already answered", proto.ErrConflict, rid)
		}
		return storeErr(err, "request "+rid)
	}
	s.log.Info("connection request answered", "account", id, "request", rid, "state", state)
	s.changed(r.Context(), id)
	q.State, q.Answer = state, env.Marshal()
	ri, err := s.info(q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ri)
	return nil
}

func (s *Server) requestBody(q store.Request) (*proto.ConnectRequest, error) {
	env, err := proto.ParseEnvelope(q.Body)
	if err == nil {
		var cr *proto.ConnectRequest
		if cr, err = proto.ParseConnectRequest(env); err == nil {
			return cr, nil
		}
	}
	return nil, fmt.Errorf("%w: stored request: %v", proto.ErrServer, err)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func randomID() string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(randomBytes(15))
}

// prune deletes requests that expired over a day ago, at most once an hour.
func (s *Server) prune(ctx context.Context) {
	s.mu.Lock()
	due := s.now().Sub(s.pruned) > time.Hour
	if due {
		s.pruned = s.now()
	}
	s.mu.Unlock()
	if !due {
		return
	}
	if n, err := s.st.PruneRequests(ctx, s.now().Add(-24*time.Hour)); err != nil {
		s.log.Warn("pruning requests", "err", err)
	} else if n > 0 {
		s.log.Info("pruned expired requests", "count", n)
	}
}
