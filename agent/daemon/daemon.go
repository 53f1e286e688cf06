// Package daemon is the agent's reconcile loop (DESIGN.md §8): it keeps
// every local mail client configured with the account's enabled addresses,
// and asks the user to approve devices that want to join.
//
// The desired state is the verified account log and the bundles this device
// can open; [agent.Agent.Configure] applies it to every client. The loop
// wakes on the mesh's long poll, on changes to the clients' files (fsnotify
// on the Thunderbird profile folders, so a client that was running is
// applied to as soon as it closes, and a new identity is configured without
// being asked) and on the local API; it never wakes on a timer except to
// retry a failure, with exponential backoff. What it did last is kept in
// the state file [StateFile] in the device home.
//
// Use [New], then [Daemon.Run].
package daemon

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/agent/prompt"
)

// Config is what a Daemon runs with.
type Config struct {
	Agent *agent.Agent
	Log   *slog.Logger
	// Prompter asks the user about connection requests; nil means no
	// prompt (the CLI's pending/approve path only).
	Prompter prompt.Prompter
	// ThunderbirdRoots are the folders holding profiles.ini to watch; nil
	// means the platform's usual ones for the user's home.
	ThunderbirdRoots []string
	// PromptRetry is how long after a prompt failed to show (no
	// notification service yet, say, right after login) it is raised
	// again, while the request is pending; zero means 30s.
	PromptRetry time.Duration
	// MinBackoff and MaxBackoff bound the retry delay after a failure;
	// zero means 1s and 5 minutes.
	MinBackoff, MaxBackoff time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Daemon is a running agent.
type Daemon struct {
	cfg       Config
	log       *slog.Logger
	statePath string
	wake      chan string   // reasons to reconcile
	acctWake  chan struct{} // the account file changed
	runMu     sync.Mutex    // one reconcile at a time

	mu       sync.Mutex
	state    *State
	asked    map[string]bool // request IDs already prompted
	backoff  time.Duration
	runCtx   context.Context // Run's context, for background work
	awaiting bool            // a wait for this device's approval runs
}

// New returns a daemon for cfg.
func New(cfg Config) (*Daemon, error) {
	if cfg.Agent == nil {
		return nil, errors.New("daemon: no agent")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PromptRetry == 0 {
		cfg.PromptRetry = 30 * time.Second
	}
	path := cfg.Agent.Home().Path(StateFile)
	st, err := readOrEmpty(path)
	if err != nil {
		cfg.Log.Warn("previous agent state unreadable; starting afresh", "err", err)
	}
	if st.InProgress != nil {
		cfg.Log.Warn("the previous agent stopped while configuring clients; completing now", "since", *st.InProgress)
	}
	st.PID, st.Started = os.Getpid(), cfg.Now()
	d := &Daemon{cfg: cfg, log: cfg.Log, statePath: path, state: st, asked: map[string]bool{},
		wake: make(chan string, 1), acctWake: make(chan struct{}, 1)}
	return d, nil
}

// Kick wakes the loop for reason (the local API calls it after an
// approval or when asked to configure).
func (d *Daemon) Kick(reason string) {
	select {
	case d.wake <- reason:
	default:
	}
}

// State returns a copy of what the daemon did last.
func (d *Daemon) State() State {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := *d.state
	st.Prompts = append([]PromptState(nil), d.state.Prompts...)
	return st
}

// Run runs the loop until ctx ends. It returns an error only when it could
// not start (the state file or the watches cannot be made).
func (d *Daemon) Run(ctx context.Context) error {
	if err := d.save(); err != nil {
		return err
	}
	d.runContext(ctx)
	w, err := newWatcher(d, d.cfg.ThunderbirdRoots)
	if err != nil {
		return err
	}
	defer w.close()
	go w.run(ctx)
	go d.pollMesh(ctx)
	d.log.Info("agent started", "home", d.cfg.Agent.Home().Dir(), "pid", os.Getpid())
	reason := "start"
	retry := time.NewTimer(0)
	<-retry.C
	for {
		if delay, again := d.reconcile(ctx, reason); again {
			d.log.Info("will retry", "in", delay.Round(time.Millisecond))
			retry.Reset(delay)
		}
		w.refresh()
		select {
		case <-ctx.Done():
			retry.Stop()
			d.log.Info("agent stopped")
			return nil
		case reason = <-d.wake:
			retry.Stop()
		case <-retry.C:
			reason = "retry"
		}
	}
}

// nextBackoff doubles the retry delay up to the maximum.
func (d *Daemon) nextBackoff() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.backoff == 0 {
		d.backoff = d.cfg.MinBackoff
	} else {
		d.backoff = min(2*d.backoff, d.cfg.MaxBackoff)
	}
	return d.backoff
}

func (d *Daemon) resetBackoff() {
	d.mu.Lock()
	d.backoff = 0
	d.mu.Unlock()
}

// update changes the state under the lock and writes it.
func (d *Daemon) update(f func(st *State)) {
	d.mu.Lock()
	f(d.state)
	d.mu.Unlock()
	if err := d.save(); err != nil {
		d.log.Error("cannot write the agent state", "err", err)
	}
}

func (d *Daemon) save() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return writeState(d.statePath, d.state)
}
