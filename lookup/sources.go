package lookup

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/endymail/endymail/mesh/proto"
	"github.com/endymail/endymail/openpgp"
)

// errNotHere means a source answered cleanly that it has no key.
var errNotHere = errors.New("not published here")

// chain asks the sources in order and returns the first verified key, with
// every answer it refused. known is the key already trusted for addr.
func (r *Resolver) chain(ctx context.Context, addr string, known *Record) (*Record, []Rejection) {
	var rejected []Rejection
	try := func(source, where string, get func(ctx context.Context) (*Record, error)) *Record {
		sctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
		defer cancel()
		rec, err := get(sctx)
		if err == nil {
			rec.Source, rec.URL, rec.Fetched = source, where, r.cfg.Now().UTC()
			return rec
		}
		if !errors.Is(err, errNotHere) {
			if sctx.Err() != nil && ctx.Err() == nil {
				err = fmt.Errorf("%w: no complete answer within %s: %v", ErrTimeout, r.cfg.Timeout, err)
			}
			rejected = append(rejected, Rejection{Time: r.cfg.Now().UTC(), Source: source, URL: where, Reason: err.Error()})
		}
		return nil
	}
	if r.cfg.Mesh != nil {
		if rec := try(SourceMesh, "", func(ctx context.Context) (*Record, error) { return r.mesh(ctx, addr, known) }); rec != nil {
			return rec, rejected
		}
	}
	if adv, direct, err := WKDURLs(addr); !r.cfg.NoWKD && err == nil {
		for _, u := range []struct{ src, url string }{{SourceWKDAdvanced, adv}, {SourceWKDDirect, direct}} {
			if rec := try(u.src, u.url, func(ctx context.Context) (*Record, error) { return r.keyAt(ctx, u.url, addr) }); rec != nil {
				return rec, rejected
			}
		}
	}
	if r.cfg.VKS != "" {
		u := strings.TrimRight(r.cfg.VKS, "/") + "/vks/v1/by-email/" + url.PathEscape(addr)
		if rec := try(SourceVKS, u, func(ctx context.Context) (*Record, error) { return r.keyAt(ctx, u, addr) }); rec != nil {
			return rec, rejected
		}
	}
	for _, src := range r.cfg.Received {
		var refused []error
		rec := try(src.Source(), "", func(ctx context.Context) (*Record, error) {
			rec, bad, err := r.received(ctx, src, addr, known)
			refused = bad
			return rec, err
		})
		if rec != nil {
			for _, err := range refused {
				rejected = append(rejected, Rejection{Time: r.cfg.Now().UTC(), Source: src.Source(), Reason: err.Error()})
			}
			return rec, rejected
		}
	}
	return nil, rejected
}

// mesh asks the mesh service and verifies its answer.
func (r *Resolver) mesh(ctx context.Context, addr string, known *Record) (*Record, error) {
	l, err := r.cfg.Mesh.Lookup(ctx, addr)
	if errors.Is(err, proto.ErrNotFound) {
		return nil, errNotHere
	}
	if err != nil {
		return nil, err
	}
	if l.Address != addr {
		return nil, fmt.Errorf("%w: answer is for %q, asked for %s", ErrUnverified, l.Address, addr)
	}
	return verifyMesh(l, addr, known, r.cfg.Now())
}

// WKDURLs returns the Web Key Directory URLs of addr: the advanced method's
// and the direct method's.
func WKDURLs(addr string) (advanced, direct string, err error) {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(domain, "/?#@:") {
		return "", "", fmt.Errorf("address %q has no usable domain for WKD", addr)
	}
	domain = strings.ToLower(domain)
	tail := "hu/" + proto.WKDHash(local) + "?l=" + url.QueryEscape(local)
	return "https://openpgpkey." + domain + "/.well-known/openpgpkey/" + domain + "/" + tail,
		"https://" + domain + "/.well-known/openpgpkey/" + tail, nil
}

// keyAt fetches one key over HTTP(S) (WKD or VKS) and checks it for addr.
func (r *Resolver) keyAt(ctx context.Context, u, addr string) (*Record, error) {
	data, err := r.get(ctx, u)
	if err != nil {
		return nil, err
	}
	k, err := checkOpenPGP(data, addr, r.cfg.Now())
	if err != nil {
		return nil, err
	}
	pub, err := k.SerializePublic()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return &Record{Fingerprint: k.Fingerprint(), OpenPGP: pub}, nil
}

// get reads a URL's body, at most MaxSize bytes; 404 and 410 are errNotHere,
// and so is a host that does not resolve (no WKD at that name).
func (r *Resolver) get(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/octet-stream, application/pgp-keys")
	resp, err := r.cfg.HTTP.Do(req)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return nil, fmt.Errorf("%w: %v", errNotHere, err)
		}
		return nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, errNotHere
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	case resp.ContentLength > r.cfg.MaxSize:
		return nil, fmt.Errorf("%w: %d bytes announced, limit %d", ErrTooLarge, resp.ContentLength, r.cfg.MaxSize)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, r.cfg.MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if int64(len(data)) > r.cfg.MaxSize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, r.cfg.MaxSize)
	}
	return data, nil
}

// expired reports whether the record's keys can no longer be used at now.
func (rec *Record) expired(now time.Time) bool {
	if len(rec.OpenPGP) > 0 {
		if k, err := openpgp.ParsePublic(rec.OpenPGP); err != nil || k.Expired(now) {
			return true
		}
	}
	if len(rec.SMIME) > 0 {
		leaf, err := x509.ParseCertificate(rec.SMIME[0])
		if err != nil || now.After(leaf.NotAfter) {
			return true
		}
	}
	return false
}
