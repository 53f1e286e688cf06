package daemon

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/device"
)

// reconcile brings every client to the desired state once. It returns the
// delay before a retry when something failed that a retry may fix.
func (d *Daemon) reconcile(ctx context.Context, reason string) (time.Duration, bool) {
	_, err := d.Reconcile(ctx, reason)
	if err == nil {
		d.resetBackoff()
		return 0, false
	}
	if errors.Is(err, ErrIdle) || ctx.Err() != nil {
		return 0, false
	}
	delay := d.nextBackoff()
	d.update(func(st *State) { st.NextRetry = d.cfg.Now().Add(delay) })
	return delay, true
}

// ErrIdle means there is nothing to configure yet (no account, or this
// device waits for its approval): not a failure to retry.
var ErrIdle = errors.New("nothing to configure yet")

// Reconcile runs one pass now and returns what each client did per
// address. Its error says what failed; clients that are running or have no
// identity for an address are not failures.
func (d *Daemon) Reconcile(ctx context.Context, reason string) (map[string][]agent.ClientResult, error) {
	d.runMu.Lock()
	defer d.runMu.Unlock()
	start := d.cfg.Now()
	d.log.Debug("reconciling", "reason", reason)
	admin, idle, err := d.local()
	if err != nil {
		d.finish(reason, start, nil, fmt.Errorf("reading the account: %w", err))
		return nil, err
	}
	if idle != "" {
		d.finish(reason, start, nil, nil, idle)
		return nil, fmt.Errorf("%w: %s", ErrIdle, idle)
	}
	if admin && reason != "asked by the CLI" {
		d.promptPending(ctx)
	}
	d.update(func(s *State) { s.InProgress = &start })
	all, err := d.cfg.Agent.Configure(ctx)
	if err != nil {
		err = fmt.Errorf("configuring clients: %w", err)
	} else {
		err = clientErrors(all)
	}
	d.finish(reason, start, all, err)
	d.syncContacts(ctx)
	return all, err
}

// syncContacts looks up the keys of the clients' contacts and imports what
// it finds, while at least one address is enabled; once none is (the last
// one disabled here or on another device) it takes the imported keys out
// again, as `endymail disable` does. It never fails the pass: a contact
// without a key, or a client that is running, is tried again on the next
// pass (lookups are cached).
func (d *Daemon) syncContacts(ctx context.Context) {
	enabled, err := d.cfg.Agent.EnabledAddresses()
	if err != nil {
		d.log.Warn("contacts", "err", err)
		return
	}
	what, sync := "importing contacts' keys", d.cfg.Agent.SyncContacts
	if len(enabled) == 0 {
		what, sync = "taking contacts' keys out (no address enabled)", d.cfg.Agent.RevertPeers
	}
	results, err := sync(ctx)
	if err != nil {
		if !errors.Is(err, agent.ErrNoContactsClient) {
			d.log.Warn(what, "err", err)
		}
		return
	}
	for _, r := range results {
		if r.Err != nil && !errors.Is(r.Err, clients.ErrClientRunning) {
			d.log.Warn(what, "client", r.Client, "err", r.Err)
		}
		for _, act := range r.Report.Actions {
			d.log.Info(what, "client", r.Client, "action", act)
		}
	}
}

// local reads, without the network, whether the device is an admin of an
// account, or why there is nothing to do yet.
func (d *Daemon) local() (admin bool, idle string, err error) {
	home := d.cfg.Agent.Home()
	acct, err := home.Account()
	switch {
	case errors.Is(err, device.ErrNoAccount):
		return false, "no account yet: waiting for 'endymail init' or 'endymail connect'", nil
	case err != nil:
		return false, "", err
	case acct.Pending != nil:
		d.awaitConnection()
		return false, "waiting for this device's approval, code " + acct.Pending.Code, nil
	}
	keys, err := home.Keys()
	if err != nil {
		return false, "", err
	}
	st, err := acct.State()
	if err != nil {
		return false, "", err
	}
	d.update(func(s *State) { s.Head = st.Seq })
	dev := st.Devices[keys.ID()]
	return dev != nil && dev.Admin, "", nil
}

// clientErrors joins the per-client failures that a retry may fix.
func clientErrors(all map[string][]agent.ClientResult) error {
	var errs []error
	for addr, rs := range all {
		for _, r := range rs {
			if r.Err != nil && !errors.Is(r.Err, clients.ErrClientRunning) && !errors.Is(r.Err, clients.ErrNoIdentity) {
				errs = append(errs, fmt.Errorf("%s: %s: %w", addr, r.Client, r.Err))
			}
		}
	}
	return errors.Join(errs...)
}

// finish records a pass in the state file and the log.
func (d *Daemon) finish(reason string, start time.Time, all map[string][]agent.ClientResult, err error, idle ...string) {
	now := d.cfg.Now()
	summary := summarize(all)
	if len(idle) > 0 {
		summary = idle[0]
	}
	d.update(func(st *State) {
		st.LastRun, st.Reason, st.InProgress, st.NextRetry = now, reason, nil, time.Time{}
		st.Error, st.Summary = "", summary
		if err != nil {
			st.Error = err.Error()
		}
		if all != nil {
			prev := st.Addresses
			st.Addresses = map[string][]ClientState{}
			for addr, rs := range all {
				for _, r := range rs {
					st.Addresses[addr] = append(st.Addresses[addr], keepChange(prev[addr], clientState(r, now)))
				}
			}
		}
	})
	args := []any{"reason", reason, "took", now.Sub(start).Round(time.Millisecond)}
	switch {
	case err != nil:
		d.log.Warn("reconcile failed: "+summary, append(args, "err", err)...)
	case summary != "":
		d.log.Info(summary, args...)
	}
	for addr, rs := range all {
		for _, r := range rs {
			for _, act := range r.Report.Actions {
				d.log.Info("changed "+r.Client, "address", addr, "action", act)
			}
		}
	}
}

// keepChange keeps the record of the last pass that changed a client when
// the new pass found nothing to do, so the state says what was configured
// and when, not only that nothing happened since.
func keepChange(prev []ClientState, cs ClientState) ClientState {
	if cs.Status != StatusUnchanged {
		return cs
	}
	for _, p := range prev {
		if p.Client == cs.Client && p.Status == StatusConfigured {
			return p
		}
	}
	return cs
}

func clientState(r agent.ClientResult, now time.Time) ClientState {
	cs := ClientState{Client: r.Client, At: now, Actions: r.Report.Actions, Deferred: r.Report.Deferred}
	switch {
	case errors.Is(r.Err, clients.ErrClientRunning):
		cs.Status = StatusRunning
	case errors.Is(r.Err, clients.ErrNoIdentity):
		cs.Status = StatusNoIdentity
	case r.Err != nil:
		cs.Status, cs.Error = StatusFailed, r.Err.Error()
	case r.Report.Changed():
		cs.Status = StatusConfigured
	default:
		cs.Status = StatusUnchanged
	}
	return cs
}

// summarize says in one line what a pass did to the clients.
func summarize(all map[string][]agent.ClientResult) string {
	if all == nil {
		return ""
	}
	if len(all) == 0 {
		return "no address is enabled on the account"
	}
	count := map[string]int{}
	for _, rs := range all {
		for _, r := range rs {
			count[clientState(r, time.Time{}).Status]++
		}
	}
	var parts []string
	for s, n := range count {
		parts = append(parts, fmt.Sprintf("%d %s", n, s))
	}
	sort.Strings(parts)
	return fmt.Sprintf("%d address(es): %s", len(all), strings.Join(parts, ", "))
}
