package daemon

import (
	"context"
	"errors"
	"time"

	"github.com/endymail/endymail/device"
	"github.com/endymail/endymail/mesh/proto"
)

// pollWait is how long one long poll is held; below the service's cap.
const pollWait = proto.MaxWait - 5*time.Second

// pollMesh holds a long poll on the account's events and wakes the loop
// when the log head or the connection requests change. Without an account
// it waits for the account file to appear; when the service is unreachable
// it retries with backoff and wakes the loop once it answers again.
func (d *Daemon) pollMesh(ctx context.Context) {
	var head, rev uint64
	first, failing := true, false
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		ev, err := d.cfg.Agent.Events(ctx, head, rev, pollWait)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, device.ErrNoAccount):
			select {
			case <-ctx.Done():
			case <-d.acctWake:
				head, rev, first = 0, 0, true
			}
			continue
		case err != nil:
			backoff = min(max(2*backoff, d.cfg.MinBackoff), d.cfg.MaxBackoff)
			if !failing {
				d.log.Warn("mesh unreachable; retrying", "err", err, "in", backoff)
			}
			failing = true
			sleep(ctx, backoff)
			continue
		}
		changed := ev.Head != head || ev.Rev != rev
		if failing {
			d.log.Info("mesh reachable again")
		}
		if (changed && !first) || failing {
			d.Kick("mesh event")
		}
		head, rev, first, failing, backoff = ev.Head, ev.Rev, false, false, 0
	}
}

// accountChanged tells the poller that the account file changed.
func (d *Daemon) accountChanged() {
	select {
	case d.acctWake <- struct{}{}:
	default:
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
