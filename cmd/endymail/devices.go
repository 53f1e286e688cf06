package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/endymail/endymail/agent"
)

func init() {
	register(&command{name: "devices", summary: "list the account's devices", run: runDevices})
	register(&command{name: "status", summary: "show this device, its account and what is pending", run: runStatus})
}

func runDevices(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "devices", "[--json] [--home DIR]")
	asJSON := fs.Bool("json", false, "print JSON")
	home := homeFlag(fs)
	if err := noArgs(fs, args); err != nil {
		return err
	}
	a, err := openAgent(e, *home)
	if err != nil {
		return err
	}
	ds, err := a.Devices(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if ds == nil {
			ds = []agent.DeviceInfo{}
		}
		return printJSON(e, ds)
	}
	for _, d := range ds {
		var tags []string
		if d.Admin {
			tags = append(tags, "admin")
		}
		if d.This {
			tags = append(tags, "this device")
		}
		fmt.Fprintf(e.stdout, "%s  %-20q %s\n", d.ID, d.Name, strings.Join(tags, ", "))
	}
	return nil
}

func runStatus(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "status", "[--json] [--home DIR]")
	asJSON := fs.Bool("json", false, "print JSON")
	home := homeFlag(fs)
	if err := noArgs(fs, args); err != nil {
		return err
	}
	a, err := openAgent(e, *home)
	if err != nil {
		return err
	}
	full, err := deviceStatus(ctx, e, *home, a)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e, full)
	}
	st := full.Status
	defer printAgentRun(e, full.Agent)
	fmt.Fprintf(e.stdout, "home:    %s\n", st.Home)
	if st.Device == "" {
		fmt.Fprintln(e.stdout, "device:  none yet (run 'endymail init' or 'endymail connect')")
		return nil
	}
	fmt.Fprintf(e.stdout, "device:  %s (%s)\n", st.Device, st.Name)
	if st.Account == "" {
		fmt.Fprintln(e.stdout, "account: none yet")
		return nil
	}
	fmt.Fprintf(e.stdout, "account: %s (%s) on %s\n", st.Account, st.Handle, st.Mesh)
	if st.Waiting != "" {
		fmt.Fprintf(e.stdout, "waiting: for approval, code %s\n", st.Waiting)
		return nil
	}
	role := "device"
	if st.Admin {
		role = "admin device"
	}
	fmt.Fprintf(e.stdout, "role:    %s; %d devices; log head %d\n", role, st.Devices, st.Head)
	fmt.Fprintf(e.stdout, "bundles: %s\n", orNone(st.Bundles))
	fmt.Fprintf(e.stdout, "published: %s\n", orNone(st.Published))
	if st.Pending > 0 {
		fmt.Fprintf(e.stdout, "pending: %d device(s) waiting for approval (endymail pending)\n", st.Pending)
	}
	if st.SyncError != "" {
		fmt.Fprintf(e.stdout, "sync:    failed: %s\n", st.SyncError)
	}
	return nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
