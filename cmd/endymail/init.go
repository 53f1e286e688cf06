package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/endymail/endymail/agent"
)

func init() {
	register(&command{name: "init", summary: "create an account for an address, with this device as its first admin", run: runInit})
}

func runInit(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "init", "ADDRESS --mesh URL [--device-name NAME] [--home DIR]")
	mesh := fs.String("mesh", "", "mesh service `URL` (required)")
	name := fs.String("device-name", defaultDeviceName(), "this device's `NAME`")
	home := homeFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *mesh == "" {
		return usageErrorf("init takes one ADDRESS and --mesh URL")
	}
	a, err := openAgent(e, *home)
	if err != nil {
		return err
	}
	res, err := a.Init(ctx, pos[0], *mesh, *name)
	if errors.Is(err, agent.ErrHasAccount) {
		return withHint(err, "this device home already has an account; use another --home to create a second one")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "account: %s\naddress: %s\ndevice:  %s (admin)\n\n", res.Account, res.Handle, res.Device)
	fmt.Fprintf(e.stdout, "Recovery shares (any %d of %d recover the account). They are shown only now:\n", 2, len(res.Shares))
	for i, s := range res.Shares {
		fmt.Fprintf(e.stdout, "  share %d: %s\n", i+1, s)
	}
	fmt.Fprintln(e.stdout, "\nwarning: write these down and keep them in separate safe places; endymail does not store them.")
	return nil
}

func defaultDeviceName() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "device"
	}
	if len(h) > 64 {
		h = h[:64]
	}
	return h
}
