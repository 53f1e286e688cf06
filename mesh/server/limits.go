package server

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/endymail/endymail/mesh/proto"
)

// limiter holds token buckets per client address and per account, and counts
// long polls held per client address.
type limiter struct {
	mu       sync.Mutex
	lim      Limits
	now      func() time.Time
	clients  map[string]*bucket
	accounts map[string]*bucket
	waits    map[string]int
	swept    time.Time
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

func (l *limiter) init(lim Limits, now func() time.Time) {
	l.lim, l.now = lim, now
	l.clients, l.accounts, l.waits = map[string]*bucket{}, map[string]*bucket{}, map[string]int{}
}

func (l *limiter) client(addr string) bool {
	return l.allow(l.clients, addr, l.lim.ClientRate, l.lim.ClientBurst)
}

func (l *limiter) account(id string) bool {
	return l.allow(l.accounts, id, l.lim.AccountRate, l.lim.AccountBurst)
}

func (l *limiter) allow(m map[string]*bucket, key string, r float64, burst int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweep(now)
	b := m[key]
	if b == nil {
		b = &bucket{l: rate.NewLimiter(rate.Limit(r), burst)}
		m[key] = b
	}
	b.seen = now
	return b.l.AllowN(now, 1)
}

// sweep drops buckets idle long enough to be full again, once a minute, so
// the maps stay bounded by recent clients.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Minute {
		return
	}
	l.swept = now
	for _, m := range []map[string]*bucket{l.clients, l.accounts} {
		for k, b := range m {
			if now.Sub(b.seen) > 5*time.Minute {
				delete(m, k)
			}
		}
	}
}

// holdWait admits one more long poll from addr; release must be called when
// it ends.
func (l *limiter) holdWait(addr string) (release func(), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.waits[addr] >= l.lim.MaxWaitsPerHost {
		return nil, fmt.Errorf("%w: %d long polls already held from %s", proto.ErrRateLimit, l.waits[addr], addr)
	}
	l.waits[addr]++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.waits[addr]--; l.waits[addr] <= 0 {
			delete(l.waits, addr)
		}
	}, nil
}

// clientAddr is who a request is counted against for the per-client rate
// limit and long polls: the client's IP address, an IPv6 address by its /64
// (a host usually has a whole /64 to pick addresses from).
//
// Behind a reverse proxy (the mesh proxied from the mail domain for WKD, or
// a TLS terminator) every connection comes from the proxy, so for a peer in
// Config.TrustedProxies the client is taken from X-Forwarded-For instead:
// the rightmost address that is not itself a trusted proxy. Addresses left
// of it were written by the client and prove nothing; a header that does not
// parse leaves the request counted against the proxy. Without trusted
// proxies the header is ignored.
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if s.trustedProxy(peer) {
		if c, ok := s.forwardedFor(r.Header.Values("X-Forwarded-For")); ok {
			peer = c
		}
	}
	return limitKey(peer)
}

// forwardedFor returns the rightmost address in the X-Forwarded-For values
// that is not a trusted proxy.
func (s *Server) forwardedFor(values []string) (netip.Addr, bool) {
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return netip.Addr{}, false
		}
		if a = a.Unmap(); !s.trustedProxy(a) {
			return a, true
		}
	}
	return netip.Addr{}, false
}

func (s *Server) trustedProxy(a netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// limitKey is an IPv4 address, or an IPv6 address's /64.
func limitKey(a netip.Addr) string {
	if a.Is4() {
		return a.String()
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}

// held counts the long polls held from addr.
func (l *limiter) held(addr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waits[addr]
}
