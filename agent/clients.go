package agent

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/mesh/proto"
)

// NamedClient is a configurator with the client's name for reports.
type NamedClient struct {
	Name string
	clients.Configurator
}

// ClientResult is what one configurator did for an address.
type ClientResult struct {
	Client string
	Report clients.Report
	Err    error
}

// ConfigureAddress applies the address's current keys to every local mail
// client. Errors are per client: one client's failure does not stop the
// others. A client that is running (ErrClientRunning) is reported for the
// agent to retry when it exits.
func (a *Agent) ConfigureAddress(ctx context.Context, address string) []ClientResult {
	s, err := a.open()
	if err == nil {
		err = a.sync(ctx, s)
	}
	if err != nil {
		return []ClientResult{{Client: "endymail", Err: err}}
	}
	return a.configure(ctx, s, address)
}

// configure applies one address with the session's verified state.
func (a *Agent) configure(ctx context.Context, s *session, address string) []ClientResult {
	m, err := a.material(ctx, s, address)
	if err != nil {
		return []ClientResult{{Client: "endymail", Err: err}}
	}
	var out []ClientResult
	for _, c := range a.Clients {
		rep, err := c.Apply(ctx, m)
		out = append(out, ClientResult{Client: c.Name, Report: rep, Err: err})
	}
	return out
}

// RevertAddress restores every local client to what it was before the
// address was configured.
func (a *Agent) RevertAddress(ctx context.Context, address string) []ClientResult {
	addr, err := proto.NormalizeAddress(address)
	if err != nil {
		return []ClientResult{{Client: "endymail", Err: err}}
	}
	var out []ClientResult
	for _, c := range a.Clients {
		rep, err := c.Revert(ctx, addr)
		out = append(out, ClientResult{Client: c.Name, Report: rep, Err: err})
	}
	return out
}

// Configure applies every enabled address of the account to the local
// clients, and reverts every address disabled since, wherever it was
// disabled (what `endymail configure` and the agent's reconcile loop run).
// A revert that had nothing to do is left out of the result.
func (a *Agent) Configure(ctx context.Context) (map[string][]ClientResult, error) {
	s, err := a.open()
	if err != nil {
		return nil, err
	}
	if err := a.sync(ctx, s); err != nil {
		return nil, err
	}
	out := map[string][]ClientResult{}
	for addr := range s.st.Published {
		out[addr] = a.configure(ctx, s, addr)
	}
	for _, addr := range disabledAddresses(s.st) {
		if rs := a.RevertAddress(ctx, addr); anyChangeOrError(rs) {
			out[addr] = rs
		}
	}
	return out, nil
}

// disabledAddresses are the addresses that have a key bundle but are not
// published: Enable seals the bundle and publishes in one append, Disable
// unpublishes, so these were disabled (on this device or another).
func disabledAddresses(st *proto.State) []string {
	var out []string
	for name := range st.Bundles {
		if addr, ok := strings.CutPrefix(name, addressBundle("")); ok && st.Published[addr] == nil {
			out = append(out, addr)
		}
	}
	slices.Sort(out)
	return out
}

func anyChangeOrError(rs []ClientResult) bool {
	return slices.ContainsFunc(rs, func(r ClientResult) bool { return r.Err != nil || r.Report.Changed() })
}

// Identities lists the sending identities of every local client.
func (a *Agent) Identities(ctx context.Context) ([]clients.Identity, error) {
	var all []clients.Identity
	var errs []error
	for _, c := range a.Clients {
		ids, err := c.Identities(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.Name, err))
		}
		all = append(all, ids...)
	}
	return all, errors.Join(errs...)
}

// material builds what the configurators need from the address's bundle.
func (a *Agent) material(ctx context.Context, s *session, address string) (clients.Material, error) {
	addr, err := proto.NormalizeAddress(address)
	if err != nil {
		return clients.Material{}, err
	}
	keys, err := a.addressKeys(ctx, s, addr)
	if err != nil {
		return clients.Material{}, err
	}
	ks, err := keys.current()
	if err != nil {
		return clients.Material{}, err
	}
	id, err := ks.identity()
	if err != nil {
		return clients.Material{}, err
	}
	pw := make([]byte, 18)
	rand.Read(pw)
	password := base64.RawURLEncoding.EncodeToString(pw)
	p12, err := id.PKCS12(password)
	if err != nil {
		return clients.Material{}, err
	}
	pgp, err := ks.pgpKey()
	if err != nil {
		return clients.Material{}, err
	}
	pub, err := pgp.SerializePublic()
	if err != nil {
		return clients.Material{}, err
	}
	cfg, err := a.home.Config()
	if err != nil {
		return clients.Material{}, err
	}
	m := clients.Material{
		Address: addr, Name: keys.Name, Prefer: cfg.Prefer,
		SMIME:   &clients.SMIME{PKCS12: p12, Password: password, Cert: id.Cert, Chain: id.Chain, CA: id.Chain[len(id.Chain)-1]},
		OpenPGP: &clients.OpenPGP{Secret: ks.OpenPGP, Public: pub, Fingerprint: pgp.Fingerprint()},
	}
	return m, m.Validate()
}
