package daemon

import (
	"context"
	"errors"

	"github.com/endymail/endymail/agent"
)

// awaitConnection completes this device's pending connection in the
// background (the `endymail connect` that posted it may be gone): once
// approved, the account file changes and the loop configures the clients.
// One wait runs at a time.
func (d *Daemon) awaitConnection() {
	d.mu.Lock()
	if d.awaiting || d.runCtx == nil {
		d.mu.Unlock()
		return
	}
	d.awaiting = true
	ctx := d.runCtx
	d.mu.Unlock()
	go func() {
		defer func() {
			d.mu.Lock()
			d.awaiting = false
			d.mu.Unlock()
		}()
		res, err := d.cfg.Agent.AwaitConnection(ctx)
		switch {
		case err == nil:
			d.log.Info("this device was approved", "account", res.Account, "bundles", res.Bundles)
		case errors.Is(err, agent.ErrDenied), errors.Is(err, agent.ErrExpired):
			d.log.Warn("the connection request ended", "err", err)
			d.Kick("connection request ended")
		case errors.Is(err, agent.ErrNotPending), ctx.Err() != nil:
		default:
			d.log.Warn("waiting for this device's approval failed; retrying at the next wake-up", "err", err)
		}
	}()
}

// runContext records the context Run runs with, for background work.
func (d *Daemon) runContext(ctx context.Context) {
	d.mu.Lock()
	d.runCtx = ctx
	d.mu.Unlock()
}
