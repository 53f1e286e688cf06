package main

import (
	"context"
	"fmt"
)

func init() {
	register(&command{name: "remove", summary: "revoke a device: it leaves the account and every bundle is sealed again without it", run: runRemove})
}

func runRemove(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "remove", "DEVICE-ID [--home DIR]")
	home := homeFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("remove takes the DEVICE-ID from 'endymail devices'")
	}
	a, err := openAgent(e, *home)
	if err != nil {
		return err
	}
	d, err := a.RemoveDevice(ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "removed %q %s; every bundle is sealed again without it\n", d.Name, d.ID)
	fmt.Fprintln(e.stderr, "hint: keys it already had stay with it; run 'endymail enable ADDRESS --rotate' for new mail keys")
	return nil
}
