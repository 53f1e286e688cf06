package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/endymail/endymail/agent"
)

func init() {
	register(&command{name: "recover", summary: "make this device an admin of an account from its recovery shares", run: runRecover})
}

// shareList collects repeated --share flags.
type shareList []string

func (s *shareList) String() string     { return strings.Join(*s, ",") }
func (s *shareList) Set(v string) error { *s = append(*s, v); return nil }

func runRecover(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "recover", "ADDRESS --mesh URL --share SHARE --share SHARE [--device-name NAME] [--home DIR]")
	mesh := fs.String("mesh", "", "mesh service `URL` (required)")
	name := fs.String("device-name", defaultDeviceName(), "this device's `NAME`")
	var shares shareList
	fs.Var(&shares, "share", "a recovery `SHARE` as printed by init (repeat: as many as the threshold)")
	home := homeFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *mesh == "" || len(shares) == 0 {
		return usageErrorf("recover takes one ADDRESS, --mesh URL and the --share values")
	}
	a, err := openAgent(e, *home)
	if err != nil {
		return err
	}
	res, err := a.Recover(ctx, pos[0], *mesh, *name, shares)
	if errors.Is(err, agent.ErrWrongShares) {
		return withHint(err, "use shares printed by 'endymail init' for this address")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "recovered: this device (%s) is an admin of account %s\nreceived: %s\n", res.Device, res.Account, orNone(res.Bundles))
	fmt.Fprintln(e.stderr, "hint: if a lost device may be in someone else's hands, remove it (endymail devices, endymail remove ID) and rotate the mail keys (endymail enable ADDRESS --rotate)")
	return nil
}
