// Package servertest runs the real mesh service for other packages' tests:
// an embedded store in the test's temporary folder unless one is given, a
// low proof-of-work difficulty, and rate limits no functional test reaches
// (mesh/server's own admission tests set theirs).
package servertest

import (
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/endymail/endymail/mesh/server"
	"github.com/endymail/endymail/mesh/store/boltstore"
)

// Bits is the proof-of-work difficulty tests run with.
const Bits = 4

// New returns the service for cfg, closed when the test ends. A nil
// cfg.Store is a new bbolt store in t.TempDir() (closed too), zero
// cfg.PoWBits is Bits, and zero client and account rates are a million per
// second; the other zero fields take the service's defaults.
func New(t testing.TB, cfg server.Config) *server.Server {
	t.Helper()
	if cfg.Store == nil {
		st, err := boltstore.Open(filepath.Join(t.TempDir(), "mesh.db"), boltstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		cfg.Store = st
	}
	if cfg.PoWBits == 0 {
		cfg.PoWBits = Bits
	}
	l := &cfg.Limits
	if l.ClientRate == 0 {
		l.ClientRate, l.ClientBurst = 1e6, 1e6
	}
	if l.AccountRate == 0 {
		l.AccountRate, l.AccountBurst = 1e6, 1e6
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// Start runs New's service on a loopback test server and returns its URL
// and the service.
func Start(t testing.TB, cfg server.Config) (string, *server.Server) {
	t.Helper()
	srv := New(t, cfg)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts.URL, srv
}
