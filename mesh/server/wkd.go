package server

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/endymail/endymail/mesh/proto"
)

// Web Key Directory (draft-koch-openpgp-webkey-service), for the domains in
// Config.WKDDomains:
//
//	direct:   https://DOMAIN/.well-known/openpgpkey/hu/HASH?l=LOCAL
//	advanced: https://openpgpkey.DOMAIN/.well-known/openpgpkey/DOMAIN/hu/HASH?l=LOCAL
//
// plus an empty policy file for each. The key served is the binary
// transferable public key of the address in the publishing account's
// verified current log state. The service finds the address from the l=
// parameter (which every WKD client sends) and checks it against HASH.

const wkdPrefix = "/.well-known/openpgpkey/"

// wkdPolicyMaxAge is how long clients may cache a policy file.
const wkdPolicyMaxAge = "public, max-age=86400"

// wkdGet answers every path under /.well-known/openpgpkey/.
func (s *Server) wkdGet(w http.ResponseWriter, r *http.Request) error {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, wkdPrefix), "/")
	var domain, rest string
	switch {
	case len(parts) == 1 && parts[0] == "policy", len(parts) == 2 && parts[0] == "hu":
		domain, rest = requestHost(r), strings.Join(parts, "/") // direct method
	case len(parts) == 2 && parts[1] == "policy", len(parts) == 3 && parts[1] == "hu":
		domain, rest = strings.ToLower(parts[0]), strings.Join(parts[1:], "/") // advanced method
	default:
		return fmt.Errorf("%w: no such WKD path", proto.ErrNotFound)
	}
	if !s.wkd[domain] {
		return fmt.Errorf("%w: this service keeps no web key directory for %q", proto.ErrNotFound, domain)
	}
	if rest == "policy" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", wkdPolicyMaxAge)
		w.Header().Set("Access-Control-Allow-Origin", "*")
		return nil // an empty policy: no submission address, no options
	}
	return s.wkdKey(w, r, domain, strings.TrimPrefix(rest, "hu/"))
}

// wkdKey answers one key request.
func (s *Server) wkdKey(w http.ResponseWriter, r *http.Request, domain, hash string) error {
	local := r.URL.Query().Get("l")
	if local == "" {
		return fmt.Errorf("%w: this directory finds keys by the l= parameter", proto.ErrNotFound)
	}
	if proto.WKDHash(local) != strings.ToLower(hash) {
		return fmt.Errorf("%w: l=%q does not match the hash %q", proto.ErrNotFound, local, hash)
	}
	addr, err := proto.NormalizeAddress(local + "@" + domain)
	if err != nil {
		return fmt.Errorf("%w: %v", proto.ErrNotFound, err)
	}
	_, p, err := s.published(r.Context(), addr)
	if err != nil {
		return err
	}
	if len(p.OpenPGP) == 0 {
		return fmt.Errorf("%w: %s publishes no OpenPGP key", proto.ErrNotFound, addr)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", lookupMaxAge)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Content-Length", strconv.Itoa(len(p.OpenPGP)))
	w.Write(p.OpenPGP)
	return nil
}

// requestHost is the request's host name, lower case, without a port.
func requestHost(r *http.Request) string {
	h := r.Host
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}
