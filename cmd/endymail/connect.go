package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/mesh/proto"
)

func init() {
	register(&command{name: "connect", summary: "ask to add this device to the account of an address", run: runConnect})
}

func runConnect(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "connect", "ADDRESS --mesh URL [--account FINGERPRINT] [--device-name NAME] [--timeout D] [--home DIR]")
	mesh := fs.String("mesh", "", "mesh service `URL` (required)")
	name := fs.String("device-name", defaultDeviceName(), "this device's `NAME`")
	timeout := fs.Duration("timeout", 10*time.Minute, "how long to wait for the approval")
	account := fs.String("account", "", "the account `FINGERPRINT` 'endymail status' shows on an admin device (at least its first 20 characters): refuse any other account")
	home := homeFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *mesh == "" {
		return usageErrorf("connect takes one ADDRESS and --mesh URL")
	}
	a, err := openAgent(e, *home)
	if err != nil {
		return err
	}
	opt := agent.ConnectOptions{Address: pos[0], Mesh: *mesh, DeviceName: *name, Timeout: *timeout, Account: *account}
	res, err := a.Connect(ctx, opt, func(code string) {
		fmt.Fprintf(e.stdout, "code: %s\n", code)
		fmt.Fprintln(e.stderr, "Compare this code with the one your admin device shows, then approve there:")
		fmt.Fprintf(e.stderr, "  endymail approve %s\nwaiting for the answer...\n", code)
		if *account == "" {
			fmt.Fprintln(e.stderr, "(connect --account FINGERPRINT, from 'endymail status' on the admin device, refuses any other account)")
		}
	})
	switch {
	case errors.Is(err, agent.ErrHasAccount):
		return withHint(err, "this device home is already connected; use another --home")
	case errors.Is(err, agent.ErrOtherAccount):
		return withHint(err, "the mesh service does not lead to the account you named; nothing was posted")
	case errors.Is(err, agent.ErrDenied):
		return withHint(err, "an admin device refused this device")
	case errors.Is(err, proto.ErrRejected), errors.Is(err, proto.ErrFork), errors.Is(err, proto.ErrRollback):
		return withHint(err, "the mesh service sent something that does not verify; nothing was accepted")
	case err != nil:
		return err
	}
	role := "device"
	if res.Admin {
		role = "admin device"
	}
	fmt.Fprintf(e.stdout, "approved: this %s (%s) is part of account %s\n", role, res.Device, res.Account)
	fmt.Fprintf(e.stdout, "approved by: %q (if you did not approve on that device, run 'endymail status' there and compare the account)\n", res.ApprovedBy)
	if len(res.Bundles) == 0 {
		fmt.Fprintln(e.stdout, "received: no key bundles yet")
	} else {
		fmt.Fprintf(e.stdout, "received: %s\n", strings.Join(res.Bundles, ", "))
	}
	return nil
}
