package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"time"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/agent/daemon"
	"github.com/endymail/endymail/agent/localapi"
)

// approver is what pending, approve and deny need: the running agent
// through its local API, or the device home directly when none runs.
type approver interface {
	Pending(ctx context.Context) ([]agent.PendingRequest, error)
	Approve(ctx context.Context, opt agent.ApproveOptions) (*agent.PendingRequest, error)
	Deny(ctx context.Context, id string) error
}

var (
	_ approver = (*agent.Agent)(nil)
	_ approver = (*localapi.Client)(nil)
)

// runningAgent returns a client of the agent running for the device home,
// or nil when none runs.
func runningAgent(ctx context.Context, e *env, home string) *localapi.Client {
	dir, err := agentHome(e, home)
	if err != nil {
		return nil
	}
	c, err := localapi.Connect(ctx, dir)
	if err != nil {
		return nil
	}
	return c
}

// openApprover returns the running agent's API, or the agent itself.
func openApprover(ctx context.Context, e *env, home string) (approver, error) {
	if c := runningAgent(ctx, e, home); c != nil {
		return c, nil
	}
	return openAgent(e, home)
}

// configureVia runs configure through the running agent when there is one
// (the preference is in the device's settings, which it reads); ok is false
// when the caller should configure directly.
func configureVia(ctx context.Context, e *env, home string) (map[string][]agent.ClientResult, bool, error) {
	c := runningAgent(ctx, e, home)
	if c == nil {
		return nil, false, nil
	}
	defer c.Close()
	all, err := c.Configure(ctx)
	if errors.Is(err, daemon.ErrIdle) {
		err = nil
	}
	return all, true, err
}

// statusJSON is `endymail status --json`: the device's status and, under
// "agent", what the agent did last.
type statusJSON struct {
	*agent.Status
	Agent *agentRun `json:"agent,omitempty"`
}

// agentRun is the agent's side of the status.
type agentRun struct {
	Running bool `json:"running"`
	*daemon.State
}

// deviceStatus returns the status from the running agent, or directly with
// the agent's last state read from its state file.
func deviceStatus(ctx context.Context, e *env, home string, a *agent.Agent) (*statusJSON, error) {
	if c := runningAgent(ctx, e, home); c != nil {
		defer c.Close()
		st, err := c.Status(ctx)
		if err != nil {
			return nil, err
		}
		return &statusJSON{Status: st.Agent, Agent: &agentRun{Running: true, State: &st.Daemon}}, nil
	}
	st, err := a.Status(ctx)
	if err != nil {
		return nil, err
	}
	out := &statusJSON{Status: st}
	ds, err := daemon.ReadState(a.Home().Path(daemon.StateFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if ds != nil {
		out.Agent = &agentRun{State: ds}
	}
	return out, nil
}

// printAgentRun says what the agent did last.
func printAgentRun(e *env, r *agentRun) {
	if r == nil {
		fmt.Fprintln(e.stdout, "agent:   never ran here (endymail agent install, or run 'endymail agent')")
		return
	}
	state := "not running"
	if r.Running {
		state = fmt.Sprintf("running (pid %d, since %s)", r.PID, r.Started.Format(time.DateTime))
	}
	fmt.Fprintf(e.stdout, "agent:   %s\n", state)
	if !r.LastRun.IsZero() {
		fmt.Fprintf(e.stdout, "  last run %s (%s): %s\n", r.LastRun.Local().Format(time.DateTime), r.Reason, r.Summary)
	}
	for _, addr := range slices.Sorted(maps.Keys(r.Addresses)) {
		for _, c := range r.Addresses[addr] {
			fmt.Fprintf(e.stdout, "  %s in %s: %s %s\n", addr, c.Client, c.Status, c.Error)
		}
	}
	if r.InProgress != nil && !r.Running {
		fmt.Fprintln(e.stdout, "  it stopped while configuring clients; the next start completes the work")
	}
	if r.Error != "" {
		fmt.Fprintf(e.stdout, "  last error: %s\n", r.Error)
	}
	if !r.NextRetry.IsZero() && r.Running {
		fmt.Fprintf(e.stdout, "  retrying at %s\n", r.NextRetry.Local().Format(time.DateTime))
	}
}
