package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/endymail/endymail/internal/atomicfile"
	"github.com/endymail/endymail/mesh/server"
	"github.com/endymail/endymail/mesh/store"
	"github.com/endymail/endymail/mesh/store/boltstore"
	"github.com/endymail/endymail/mesh/store/pgstore"
)

func init() {
	register(&command{name: "mesh", summary: "run the mesh service (mesh serve --listen ADDR --data DIR)", run: runMesh})
}

func runMesh(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "serve" {
		return usageErrorf("mesh serve --listen ADDR --data DIR [--pow-bits N] [--postgres DSN]")
	}
	fs := newFlags(e, "mesh serve", "--listen ADDR --data DIR [--pow-bits N] [--postgres DSN] [--wkd-domain DOMAIN]... [--trusted-proxy CIDR]... [--log-level L]")
	listen := fs.String("listen", "127.0.0.1:8470", "`ADDR` to listen on (plain HTTP: loopback, or behind a TLS proxy)")
	data := fs.String("data", "", "`DIR` for the embedded store and the proof-of-work key (required)")
	bits := fs.Int("pow-bits", 20, "proof-of-work difficulty in leading zero `BITS`")
	pg := fs.String("postgres", "", "PostgreSQL `DSN`: use it instead of the embedded store")
	level := fs.String("log-level", "info", "log `LEVEL`: debug, info, warn, error")
	var wkd stringList
	fs.Var(&wkd, "wkd-domain", "answer the Web Key Directory of mail `DOMAIN` (repeatable)")
	var proxies stringList
	fs.Var(&proxies, "trusted-proxy", "take the client from X-Forwarded-For on connections from `CIDR`, a reverse proxy (repeatable)")
	if err := noArgs(fs, args[1:]); err != nil {
		return err
	}
	if *data == "" {
		return usageErrorf("mesh serve needs --data DIR")
	}
	trusted, err := parsePrefixes(proxies)
	if err != nil {
		return err
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return usageErrorf("--log-level: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: lv}))
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return err
	}
	st, err := openStore(ctx, *data, *pg)
	if err != nil {
		return err
	}
	defer st.Close()
	key, err := powKey(filepath.Join(*data, "pow.key"))
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{Store: st, Logger: logger, PoWKey: key, PoWBits: *bits, WKDDomains: wkd, TrustedProxies: trusted})
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 16 << 10,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	logger.Info("mesh service listening", "addr", ln.Addr().String(), "pow_bits", *bits)
	fmt.Fprintf(e.stdout, "listening on http://%s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// parsePrefixes parses --trusted-proxy values: a CIDR prefix or one address.
func parsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, usageErrorf("--trusted-proxy %q: not an address or CIDR prefix", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p)
	}
	return out, nil
}

func openStore(ctx context.Context, data, dsn string) (store.Store, error) {
	if dsn != "" {
		return pgstore.Open(ctx, dsn)
	}
	st, err := boltstore.Open(filepath.Join(data, "mesh.db"), boltstore.Options{})
	if errors.Is(err, boltstore.ErrInUse) {
		return nil, withHint(err, "another 'endymail mesh serve' uses this --data directory")
	}
	return st, err
}

// powKey loads the HMAC key for challenges, creating it on first start, so
// that challenges survive a restart and instances sharing it agree.
func powKey(path string) ([]byte, error) {
	k, err := os.ReadFile(path)
	if err == nil && len(k) == 32 {
		return k, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	k = make([]byte, 32)
	rand.Read(k)
	return k, atomicfile.WriteFile(path, k, 0o600)
}
