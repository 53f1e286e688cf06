package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/endymail/endymail/mesh/proto"
)

// Public key lookup for senders: /v1/lookup answers an address with the
// publishing account's whole signed log (the sender verifies it; the
// service is not trusted), and the Web Key Directory (wkd.go) answers
// standard OpenPGP clients with the key of the verified current state.

// lookupMaxAge is how long senders and proxies may cache a lookup answer.
const lookupMaxAge = "public, max-age=300"

// publicCache keeps, per account, the verified state and the encoded log at
// one head, so that a lookup of an unchanged account costs a head check.
type publicCache struct {
	mu sync.Mutex
	m  map[string]*publicView // by account
}

// publicView is an account's public face at one log head. Read-only once
// built.
type publicView struct {
	seq uint64
	st  *proto.State
	log json.RawMessage // the log as a JSON array of envelopes
}

// maxPublicViews bounds the cache; it starts over when full.
const maxPublicViews = 4096

func (s *Server) initPublic(domains []string) error {
	s.pub.m = map[string]*publicView{}
	s.wkd = map[string]bool{}
	for _, d := range domains {
		d = strings.ToLower(strings.TrimSpace(d))
		if err := proto.CheckAddress("wkd@" + d); err != nil || strings.ContainsAny(d, "/@") {
			return fmt.Errorf("WKD domain %q is not a mail domain", d)
		}
		s.wkd[d] = true
	}
	return nil
}

// handlePublic registers the lookup and WKD routes.
func (s *Server) handlePublic(handle func(string, func(http.ResponseWriter, *http.Request) error)) {
	handle("GET /v1/lookup", s.lookup)
	handle("GET /.well-known/openpgpkey/", s.wkdGet)
}

// published returns the verified public view of the account that publishes
// addr, or ErrNotFound.
func (s *Server) published(ctx context.Context, addr string) (*publicView, *proto.Publish, error) {
	id, err := s.st.Lookup(ctx, addr)
	if err != nil {
		return nil, nil, storeErr(err, "no key published for "+addr)
	}
	v, err := s.view(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	p := v.st.Published[addr]
	if p == nil { // the index is behind the log: the log is the truth
		return nil, nil, fmt.Errorf("%w: no key published for %s", proto.ErrNotFound, addr)
	}
	return v, p, nil
}

// view returns the account's public view at its current head.
func (s *Server) view(ctx context.Context, id string) (*publicView, error) {
	a, unlock, err := s.account(ctx, id)
	if err != nil {
		return nil, err
	}
	seq := a.st.Seq
	s.pub.mu.Lock()
	v := s.pub.m[id]
	s.pub.mu.Unlock()
	if v != nil && v.seq == seq {
		unlock()
		return v, nil
	}
	st := a.st.Clone() // the view keeps it: a.st changes with the next append
	unlock()
	raw, err := s.st.Entries(ctx, id, 0, int(seq)+1)
	if err != nil {
		return nil, storeErr(err, "log of "+id)
	}
	if uint64(len(raw)) != seq+1 {
		return nil, fmt.Errorf("%w: log of %s has %d entries, head %d", proto.ErrServer, id, len(raw), seq)
	}
	envs := make([]proto.Envelope, len(raw))
	for i, b := range raw {
		if envs[i], err = proto.ParseEnvelope(b); err != nil {
			return nil, fmt.Errorf("%w: stored entry %d of %s: %v", proto.ErrServer, i, id, err)
		}
	}
	logJSON, err := json.Marshal(envs)
	if err != nil {
		return nil, fmt.Errorf("%w: encoding log of %s: %v", proto.ErrServer, id, err)
	}
	v = &publicView{seq: seq, st: st, log: logJSON}
	s.pub.mu.Lock()
	if len(s.pub.m) >= maxPublicViews {
		clear(s.pub.m)
	}
	s.pub.m[id] = v
	s.pub.mu.Unlock()
	return v, nil
}

// lookup answers GET /v1/lookup?addr=ADDR.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) error {
	addr, err := proto.NormalizeAddress(r.URL.Query().Get("addr"))
	if err != nil {
		return fmt.Errorf("%w: %v", proto.ErrBadRequest, err)
	}
	v, _, err := s.published(r.Context(), addr)
	if err != nil {
		return err
	}
	// The log is already encoded (once per head); json.Marshal would
	// re-validate and re-compact it on every request.
	qa, _ := json.Marshal(addr)
	qid, _ := json.Marshal(v.st.Account)
	body := make([]byte, 0, len(v.log)+len(qa)+len(qid)+32)
	body = append(append(append(body, `{"address":`...), qa...), `,"account":`...)
	body = append(append(append(body, qid...), `,"log":`...), v.log...)
	body = append(body, '}')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", lookupMaxAge)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
	return nil
}
