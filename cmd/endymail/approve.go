package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/endymail/endymail/agent"
)

func init() {
	register(&command{name: "pending", summary: "list devices waiting for approval", run: runPending})
	register(&command{name: "approve", summary: "approve a waiting device by the code on its screen", run: runApprove})
	register(&command{name: "deny", summary: "refuse a waiting device", run: runDeny})
}

func runPending(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "pending", "[--json] [--home DIR]")
	asJSON := fs.Bool("json", false, "print JSON")
	home := homeFlag(fs)
	if err := noArgs(fs, args); err != nil {
		return err
	}
	a, err := openApprover(ctx, e, *home)
	if err != nil {
		return err
	}
	reqs, err := a.Pending(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if reqs == nil {
			reqs = []agent.PendingRequest{}
		}
		return printJSON(e, reqs)
	}
	if len(reqs) == 0 {
		fmt.Fprintln(e.stdout, "no devices are waiting for approval")
		return nil
	}
	for _, r := range reqs {
		fmt.Fprintf(e.stdout, "id: %s\n  device: %q %s\n  code:   %s\n  expires in %s\n",
			r.ID, r.Name, r.Device, r.Code, time.Until(r.Expires).Round(time.Second))
	}
	fmt.Fprintln(e.stdout, "\nApprove a device with: endymail approve CODE  (type the code its screen shows)")
	return nil
}

func runApprove(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "approve", "CODE | --id ID [--admin] [--home DIR]")
	id := fs.String("id", "", "approve the request with this `ID` (after comparing codes by eye)")
	admin := fs.Bool("admin", false, "make the new device an admin device")
	home := homeFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	opt := agent.ApproveOptions{ID: *id, Admin: *admin}
	switch {
	case len(pos) == 1 && *id == "":
		opt.Code = pos[0]
	case len(pos) == 0 && *id != "":
	default:
		return usageErrorf("approve takes the CODE shown on the new device, or --id ID")
	}
	a, err := openApprover(ctx, e, *home)
	if err != nil {
		return err
	}
	pr, err := a.Approve(ctx, opt)
	switch {
	case errors.Is(err, agent.ErrNoMatch):
		return withHint(err, "check the code on the new device's screen; if it differs from every code 'endymail pending' shows, someone may be tampering: deny the request")
	case errors.Is(err, agent.ErrNotAdmin):
		return withHint(err, "approve from an admin device")
	case err != nil:
		return err
	}
	fmt.Fprintf(e.stdout, "approved: %q %s\n", pr.Name, pr.Device)
	return nil
}

func runDeny(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "deny", "ID [--home DIR]")
	home := homeFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("deny takes the request ID from 'endymail pending'")
	}
	a, err := openApprover(ctx, e, *home)
	if err != nil {
		return err
	}
	if err := a.Deny(ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "denied: %s\n", pos[0])
	return nil
}
