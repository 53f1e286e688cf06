package agent

import (
	"context"
	"errors"
	"net/http"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/device"
	"github.com/endymail/endymail/lookup"
	"github.com/endymail/endymail/mesh/client"
)

// LookupOptions adjust the agent's key lookup chain. The zero value is the
// default: the account's mesh, then WKD, no keyserver, then the
// certificates of received signed mail that the mail clients keep.
type LookupOptions struct {
	VKS     string       // base URL of a VKS keyserver; "" = off
	NoWKD   bool         // skip the Web Key Directory
	NoMesh  bool         // skip the account's mesh service
	Refresh bool         // ask the sources even when the cache is fresh
	HTTP    *http.Client // for WKD and VKS (tests: a client that dials a local server)
}

// Lookup finds the public keys of a recipient's address through the lookup
// chain, with the key cache in the device home. It fails with an error
// wrapping lookup.ErrNotFound when no key is known.
func (a *Agent) Lookup(ctx context.Context, addr string) (*lookup.Outcome, error) {
	return a.LookupWith(ctx, addr, LookupOptions{})
}

// LookupWith is Lookup with options.
func (a *Agent) LookupWith(ctx context.Context, addr string, opt LookupOptions) (*lookup.Outcome, error) {
	r, err := a.resolver(opt)
	if err != nil {
		return nil, err
	}
	if opt.Refresh {
		return r.Fetch(ctx, addr)
	}
	return r.Lookup(ctx, addr)
}

// KnownKeys returns the cached key of addr, a held-back different key if
// one was seen, and the address's change history.
func (a *Agent) KnownKeys(ctx context.Context, addr string) (*lookup.Known, error) {
	r, err := a.resolver(LookupOptions{NoMesh: true})
	if err != nil {
		return nil, err
	}
	return r.Known(addr)
}

// AcceptKey adopts a held-back key of addr by its fingerprint.
func (a *Agent) AcceptKey(ctx context.Context, addr, fingerprint string) (*lookup.Known, error) {
	r, err := a.resolver(LookupOptions{NoMesh: true})
	if err != nil {
		return nil, err
	}
	return r.Accept(addr, fingerprint)
}

// resolver builds the lookup chain: the account's mesh service when this
// device belongs to an account, and last the certificates of received
// signed mail of every client that keeps them.
func (a *Agent) resolver(opt LookupOptions) (*lookup.Resolver, error) {
	cfg := lookup.Config{Dir: a.home.Dir(), NoWKD: opt.NoWKD, VKS: opt.VKS, HTTP: opt.HTTP, Now: a.now,
		Received: a.receivedSources()}
	if !opt.NoMesh {
		acct, err := a.home.Account()
		switch {
		case errors.Is(err, device.ErrNoAccount):
		case err != nil:
			return nil, err
		default:
			mc, err := client.New(acct.Mesh)
			if err != nil {
				return nil, err
			}
			cfg.Mesh = mc
		}
	}
	return lookup.New(cfg)
}

// receivedSources are the configured clients that keep the certificates
// of signed mail the user received (clients.ReceivedCerts), in order.
func (a *Agent) receivedSources() []lookup.Received {
	var out []lookup.Received
	for _, nc := range a.Clients {
		if rc, ok := nc.Configurator.(clients.ReceivedCerts); ok {
			out = append(out, lookup.Received{Client: nc.Name, Certs: rc})
		}
	}
	return out
}
