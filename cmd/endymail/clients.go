package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/clients"
)

func init() {
	register(&command{name: "configure", summary: "apply every enabled address to this device's mail clients again", run: runConfigure})
	register(&command{name: "accounts", summary: "list the mail identities of this device's mail clients", run: runAccounts})
}

// reportClients prints what each client configurator did. A running client
// is not an error: the change waits until it closes.
func reportClients(e *env, results []agent.ClientResult) error {
	return reportResults(e, results, "already configured")
}

// reportReverts is reportClients for a revert.
func reportReverts(e *env, results []agent.ClientResult) error {
	return reportResults(e, results, "nothing to restore")
}

func reportResults(e *env, results []agent.ClientResult, noop string) error {
	var errs []error
	for _, r := range results {
		switch {
		case errors.Is(r.Err, clients.ErrClientRunning):
			fmt.Fprintf(e.stdout, "%s: running; the change will be applied when it closes (the agent waits, or run 'endymail configure' then)\n", r.Client)
		case errors.Is(r.Err, clients.ErrNoIdentity):
			fmt.Fprintf(e.stdout, "%s: found no identity for this address; nothing to configure\n", r.Client)
		case r.Err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", r.Client, r.Err))
		case !r.Report.Changed() && len(r.Report.Deferred) == 0:
			fmt.Fprintf(e.stdout, "%s: %s\n", r.Client, noop)
		}
		for _, act := range r.Report.Actions {
			fmt.Fprintf(e.stdout, "%s: %s\n", r.Client, act)
		}
		for _, d := range r.Report.Deferred {
			fmt.Fprintf(e.stdout, "%s: deferred: %s\n", r.Client, d)
		}
		for _, w := range r.Report.Warnings {
			fmt.Fprintf(e.stderr, "warning: %s: %s\n", r.Client, w)
		}
	}
	return errors.Join(errs...)
}

func runConfigure(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "configure", "[--prefer openpgp|smime] [--home DIR]")
	prefer := fs.String("prefer", "", "technology the clients prefer from now on: openpgp or smime (saved; default: keep)")
	home := homeFlag(fs)
	if err := noArgs(fs, args); err != nil {
		return err
	}
	if !validPrefer(*prefer) {
		return usageErrorf("--prefer openpgp or smime")
	}
	if *prefer != "" {
		a, err := openAgent(e, *home)
		if err != nil {
			return err
		}
		if err := a.SetPrefer(*prefer); err != nil {
			return err
		}
	}
	all, viaAgent, err := configureVia(ctx, e, *home)
	if !viaAgent {
		var a *agent.Agent
		if a, err = openAgent(e, *home); err != nil {
			return err
		}
		all, err = a.Configure(ctx)
	}
	if err != nil {
		return err
	}
	if len(all) == 0 {
		fmt.Fprintln(e.stdout, "no address is enabled on this account (endymail enable ADDRESS)")
	}
	addrs := make([]string, 0, len(all))
	for addr := range all {
		addrs = append(addrs, addr)
	}
	sort.Strings(addrs)
	var errs []error
	for _, addr := range addrs {
		fmt.Fprintf(e.stdout, "%s:\n", addr)
		errs = append(errs, reportClients(e, all[addr]))
	}
	return errors.Join(errs...)
}

func runAccounts(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "accounts", "[--json] [--home DIR]")
	asJSON := fs.Bool("json", false, "print JSON")
	home := homeFlag(fs)
	if err := noArgs(fs, args); err != nil {
		return err
	}
	a, err := openAgent(e, *home)
	if err != nil {
		return err
	}
	ids, err := a.Identities(ctx)
	if *asJSON {
		if ids == nil {
			ids = []clients.Identity{}
		}
		if perr := printJSON(e, ids); perr != nil {
			return perr
		}
		return err
	}
	if len(ids) == 0 {
		fmt.Fprintln(e.stdout, "no mail identities found in this device's mail clients")
	}
	for _, id := range ids {
		state := "not enabled"
		if id.Enabled {
			state = "endymail enabled"
		}
		fmt.Fprintf(e.stdout, "%-17s %-30s %-20s %s (%s)\n", id.Client, id.Address, strings.TrimSpace(id.Name), state, id.Location)
	}
	return err
}
