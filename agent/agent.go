// Package agent is endymail's composition root: it wires the device home,
// the mesh client, the mail-key packages and the client configurators, and
// offers the operations the CLI and the background agent run (init,
// connect, approve, bundles, enable, configure).
//
// Use [Open] on a device home directory.
package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/endymail/endymail/device"
	"github.com/endymail/endymail/mesh/client"
	"github.com/endymail/endymail/mesh/proto"
)

// Agent runs endymail's operations for one device home.
type Agent struct {
	home *device.Home
	now  func() time.Time
	// Progress, when set, receives short human-readable progress lines.
	Progress func(string)
	// Clients are the mail clients configured on this device.
	Clients []NamedClient
}

// Errors callers branch on.
var (
	ErrNotAdmin   = errors.New("this device is not an admin device of the account")
	ErrHasAccount = errors.New("this device already belongs to an account")
	ErrNoMatch    = errors.New("no pending request has that code")
	ErrDenied     = errors.New("the connection request was denied")
	ErrExpired    = errors.New("the connection request expired")
)

// Open returns the agent for the device home at dir.
func Open(dir string) (*Agent, error) {
	h, err := device.OpenHome(dir)
	if err != nil {
		return nil, err
	}
	if _, err := h.Config(); err != nil {
		return nil, err
	}
	return &Agent{home: h, now: time.Now, Clients: defaultClients(h)}, nil
}

// Home returns the device home.
func (a *Agent) Home() *device.Home { return a.home }

func (a *Agent) progress(format string, args ...any) {
	if a.Progress != nil {
		a.Progress(fmt.Sprintf(format, args...))
	}
}

// session is what most operations need: keys, account, client, verified state.
type session struct {
	keys *device.Keys
	acct *device.Account
	mesh *client.Client
	st   *proto.State
}

// open loads keys and account and verifies the stored log.
func (a *Agent) open() (*session, error) {
	keys, err := a.home.Keys()
	if err != nil {
		return nil, err
	}
	acct, err := a.home.Account()
	if err != nil {
		return nil, err
	}
	mc, err := client.New(acct.Mesh)
	if err != nil {
		return nil, err
	}
	st, err := acct.State()
	if err != nil {
		return nil, err
	}
	return &session{keys: keys, acct: acct, mesh: mc, st: st}, nil
}

// sync brings the session's verified log up to the service's head. It
// refuses a rollback (a head older than the one already verified), a fork
// (different bytes for an entry already verified) and any entry that does not
// verify, leaving the stored state unchanged.
func (a *Agent) sync(ctx context.Context, s *session) error {
	last := uint64(len(s.acct.Log) - 1)
	head, entries, err := s.mesh.Log(ctx, s.acct.Account, last)
	if err != nil {
		return err
	}
	if head < last || len(entries) == 0 {
		return fmt.Errorf("%w: service head %d, verified head %d", proto.ErrRollback, head, last)
	}
	if !bytes.Equal(entries[0].Payload, s.acct.Log[last].Payload) {
		return fmt.Errorf("%w: service shows different content for verified entry %d", proto.ErrFork, last)
	}
	st := s.st.Clone()
	for _, env := range entries[1:] {
		if err := st.Apply(env); err != nil {
			return fmt.Errorf("verifying the account log from the mesh: %w", err)
		}
	}
	if st.Seq < head {
		return fmt.Errorf("%w: service claims head %d but sent entries only to %d", proto.ErrSequence, head, st.Seq)
	}
	if len(entries) > 1 {
		s.acct.Log = append(s.acct.Log, entries[1:]...)
		if err := a.home.SaveAccount(s.acct); err != nil {
			return err
		}
	}
	s.st = st
	return nil
}

// batch builds signed entries that extend the session's verified state, for
// appending together.
type batch struct {
	s    *session
	st   *proto.State
	envs []proto.Envelope
	now  time.Time
}

func (s *session) batch(now time.Time) *batch { return &batch{s: s, st: s.st.Clone(), now: now.UTC()} }

// add builds, signs and (on the batch's copy of the state) verifies the next
// entry.
func (b *batch) add(kind string, body func(*proto.Entry)) error {
	e := &proto.Entry{V: proto.Version, Account: b.st.Account, Seq: b.st.Seq + 1, Prev: b.st.Head,
		Time: b.now, Signer: b.s.keys.SignerID(), Kind: kind}
	body(e)
	env, err := b.s.keys.Sign(proto.ContextEntry, e.Marshal())
	if err != nil {
		return err
	}
	if err := b.st.Apply(env); err != nil {
		return fmt.Errorf("own %s entry does not verify: %w", kind, err)
	}
	b.envs = append(b.envs, env)
	return nil
}

// commit appends the batch to the service, then to the local verified copy.
func (a *Agent) commit(ctx context.Context, b *batch) error {
	if len(b.envs) == 0 {
		return nil
	}
	if _, err := b.s.mesh.Append(ctx, b.s.acct.Account, b.envs...); err != nil {
		return err
	}
	b.s.acct.Log = append(b.s.acct.Log, b.envs...)
	b.s.st = b.st
	return a.home.SaveAccount(b.s.acct)
}

func (s *session) requireAdmin() error {
	d := s.st.Devices[s.keys.ID()]
	if d == nil || !d.Admin {
		return ErrNotAdmin
	}
	return nil
}

// SetPrefer saves the technology the clients prefer ("openpgp" or "smime")
// in the device's settings, which every configuration pass reads, the
// background agent's included.
func (a *Agent) SetPrefer(prefer string) error {
	_, err := a.home.UpdateConfig(func(c *device.Config) { c.Prefer = prefer })
	return err
}
