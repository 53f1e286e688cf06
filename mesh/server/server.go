// Package server is the mesh service: an untrusted store of signed public
// records and end-to-end encrypted bundles, with proof-of-work admission,
// rate limits, quotas and long polls. It verifies everything it stores with
// the same code devices use (package proto), so that garbage never enters a
// log, but devices never rely on that: they verify again.
//
// Use [New] with a [Config] and serve [Server.Handler].
package server

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/endymail/endymail/mesh/pow"
	"github.com/endymail/endymail/mesh/proto"
	"github.com/endymail/endymail/mesh/store"
)

// Config is the service's configuration. Zero fields take the defaults of
// [DefaultLimits].
type Config struct {
	Store   store.Store
	Logger  *slog.Logger
	PoWKey  []byte // HMAC key for challenges; random when empty
	PoWBits int    // leading zero bits required
	Limits  Limits
	Now     func() time.Time
	// WKDDomains are the mail domains whose Web Key Directory this service
	// answers (lower-case); none by default.
	WKDDomains []string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For header
	// names the client for the per-client limits; none by default.
	TrustedProxies []netip.Prefix
}

// Limits are the admission limits and quotas.
type Limits struct {
	PoWTTL          time.Duration // lifetime of a challenge
	RequestTTL      time.Duration // lifetime of a connection request
	MaxEntries      int           // log entries per account
	MaxBlobBytes    int64         // stored bundle bytes per account
	MaxPending      int           // pending connection requests per account
	MaxBody         int64         // bytes of any request body but a blob
	ClientRate      float64       // requests per second per client address
	ClientBurst     int
	AccountRate     float64 // writes per second per account
	AccountBurst    int
	MaxWait         time.Duration // longest long poll
	MaxWaitsPerHost int           // long polls held at once per client address
}

// DefaultLimits are sized for a personal or small-team service.
var DefaultLimits = Limits{
	PoWTTL: 5 * time.Minute, RequestTTL: 15 * time.Minute,
	MaxEntries: 10000, MaxBlobBytes: 64 << 20, MaxPending: 8, MaxBody: 256 << 10,
	ClientRate: 20, ClientBurst: 60, AccountRate: 10, AccountBurst: 40,
	MaxWait: proto.MaxWait, MaxWaitsPerHost: 64,
}

// Server is the mesh service.
type Server struct {
	st      store.Store
	log     *slog.Logger
	pow     *pow.Issuer
	bits    int
	lim     Limits
	now     func() time.Time
	hub     hub
	limit   limiter
	mu      sync.Mutex            // guards states and locks
	states  map[string]*acctState // verified state cache, by account
	pruned  time.Time             // last pruning of expired requests
	wkd     map[string]bool       // WKD domains served
	proxies []netip.Prefix        // trusted reverse proxies
	pub     publicCache           // encoded public lookup answers
	stop    context.CancelFunc    // ends the store subscription
}

// New returns a service over cfg.Store.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("mesh server: no store")
	}
	s := &Server{st: cfg.Store, log: cfg.Logger, bits: cfg.PoWBits, lim: cfg.Limits, now: cfg.Now, states: map[string]*acctState{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.lim.fill(DefaultLimits)
	key := cfg.PoWKey
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key)
	}
	var err error
	if s.pow, err = pow.NewIssuer(key, cfg.PoWBits, s.lim.PoWTTL, s.now); err != nil {
		return nil, fmt.Errorf("mesh server: %w", err)
	}
	s.hub.init()
	s.limit.init(s.lim, s.now)
	for _, p := range cfg.TrustedProxies {
		if !p.IsValid() {
			return nil, errors.New("mesh server: invalid trusted proxy prefix")
		}
		s.proxies = append(s.proxies, p.Masked())
	}
	if err := s.initPublic(cfg.WKDDomains); err != nil {
		return nil, fmt.Errorf("mesh server: %w", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	if n, ok := s.st.(store.Notifier); ok {
		go n.Subscribe(ctx, s.hub.notify)
	}
	return s, nil
}

// Close stops the service's background work (the store subscription of a
// shared store). It does not close the store.
func (s *Server) Close() { s.stop() }

// changed wakes the long polls on account, in this instance and, through a
// shared store, in every other.
func (s *Server) changed(ctx context.Context, account string) {
	s.hub.notify(account)
	if n, ok := s.st.(store.Notifier); ok {
		if err := n.Notify(context.WithoutCancel(ctx), account); err != nil {
			s.log.Warn("notifying other instances", "account", account, "err", err)
		}
	}
}

func (l *Limits) fill(d Limits) {
	set := func(v *time.Duration, dv time.Duration) {
		if *v == 0 {
			*v = dv
		}
	}
	seti := func(v *int, dv int) {
		if *v == 0 {
			*v = dv
		}
	}
	set(&l.PoWTTL, d.PoWTTL)
	set(&l.RequestTTL, d.RequestTTL)
	set(&l.MaxWait, d.MaxWait)
	seti(&l.MaxEntries, d.MaxEntries)
	seti(&l.MaxPending, d.MaxPending)
	seti(&l.ClientBurst, d.ClientBurst)
	seti(&l.AccountBurst, d.AccountBurst)
	seti(&l.MaxWaitsPerHost, d.MaxWaitsPerHost)
	if l.MaxBlobBytes == 0 {
		l.MaxBlobBytes = d.MaxBlobBytes
	}
	if l.MaxBody == 0 {
		l.MaxBody = d.MaxBody
	}
	if l.ClientRate == 0 {
		l.ClientRate = d.ClientRate
	}
	if l.AccountRate == 0 {
		l.AccountRate = d.AccountRate
	}
}

// Handler returns the HTTP handler of the whole API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h func(http.ResponseWriter, *http.Request) error) {
		mux.Handle(pattern, s.wrap(pattern, h))
	}
	handle("GET /v1/health", s.health)
	handle("GET /v1/challenge", s.challenge)
	handle("POST /v1/accounts", s.createAccount)
	handle("GET /v1/accounts", s.findAccount)
	handle("GET /v1/accounts/{id}/log", s.readLog)
	handle("POST /v1/accounts/{id}/log", s.appendLog)
	handle("GET /v1/accounts/{id}/events", s.events)
	handle("PUT /v1/accounts/{id}/blobs/{blob}", s.putBlob)
	handle("GET /v1/accounts/{id}/blobs/{blob}", s.getBlob)
	handle("POST /v1/accounts/{id}/requests", s.postRequest)
	handle("GET /v1/accounts/{id}/requests", s.listRequests)
	handle("GET /v1/accounts/{id}/requests/{rid}", s.getRequest)
	handle("POST /v1/accounts/{id}/requests/{rid}/answer", s.answerRequest)
	s.handlePublic(handle) // lookup.go, wkd.go
	handle("/", func(http.ResponseWriter, *http.Request) error {
		return fmt.Errorf("%w: no such endpoint", proto.ErrNotFound)
	})
	return mux
}

// wrap turns a handler that returns an error into an http.Handler that
// applies the per-client rate limit, recovers panics and answers every error
// as JSON.
func (s *Server) wrap(route string, h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic", "route", route, "panic", fmt.Sprint(p))
				writeError(w, fmt.Errorf("%w: internal error", proto.ErrServer))
			}
		}()
		var err error
		if !s.limit.client(s.clientAddr(r)) {
			err = fmt.Errorf("%w: too many requests from %s", proto.ErrRateLimit, s.clientAddr(r))
		} else {
			err = h(w, r)
		}
		if err != nil {
			level := slog.LevelInfo
			if proto.ErrorCode(err) == "server" {
				level = slog.LevelError
			}
			s.log.Log(r.Context(), level, "request refused", "route", route, "client", s.clientAddr(r), "err", err)
			writeError(w, err)
			return
		}
		s.log.Debug("request", "route", route, "client", s.clientAddr(r), "dur", s.now().Sub(start))
	})
}

var statusOf = map[string]int{
	"bad_request": http.StatusBadRequest, "not_found": http.StatusNotFound,
	"conflict": http.StatusConflict, "pow": http.StatusForbidden, "too_large": http.StatusRequestEntityTooLarge,
	"quota": http.StatusInsufficientStorage, "rate_limit": http.StatusTooManyRequests,
	"rejected": http.StatusUnprocessableEntity, "server": http.StatusInternalServerError,
}

func writeError(w http.ResponseWriter, err error) {
	code := proto.ErrorCode(err)
	status := statusOf[code]
	if code == "quota" {
		status = http.StatusForbidden // 507 is a 5xx; over-quota is the client's doing
	}
	var body proto.WireError
	body.Error.Code, body.Error.Message = code, err.Error()
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// readBody reads at most limit bytes of the request body.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, fmt.Errorf("%w: body exceeds %d bytes", proto.ErrTooLarge, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reading body: %v", proto.ErrBadRequest, err)
	}
	return b, nil
}

// decode reads and strictly decodes a JSON body.
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) ([]byte, error) {
	b, err := readBody(w, r, limit)
	if err != nil {
		return nil, err
	}
	if err := proto.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("%w: %v", proto.ErrBadRequest, err)
	}
	return b, nil
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, proto.Health{Status: "ok", Version: proto.Version})
	return nil
}

func (s *Server) challenge(w http.ResponseWriter, r *http.Request) error {
	purpose := r.URL.Query().Get("purpose")
	if purpose != proto.PurposeAccount && purpose != proto.PurposeConnect {
		return fmt.Errorf("%w: purpose must be %q or %q", proto.ErrBadRequest, proto.PurposeAccount, proto.PurposeConnect)
	}
	c := s.pow.Challenge(purpose)
	writeJSON(w, http.StatusOK, proto.Challenge{Token: c.Token, Bits: c.Bits, Expires: c.Expires})
	return nil
}

// storeErr maps a store error to a wire error.
func storeErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %s", proto.ErrNotFound, what)
	case errors.Is(err, store.ErrExists), errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%w: %s: %v", proto.ErrConflict, what, err)
	case errors.Is(err, store.ErrReplay):
		return fmt.Errorf("%w: proof of work already used", proto.ErrPoW)
	case errors.Is(err, store.ErrQuota):
		return fmt.Errorf("%w: %s", proto.ErrQuota, what)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %s: cancelled", proto.ErrBadRequest, what)
	}
	return fmt.Errorf("%w: %s: %v", proto.ErrServer, what, err)
}
