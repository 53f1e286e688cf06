package main

import (
	"context"
	"errors"
	"fmt"
)

func init() {
	register(&command{name: "selftest", summary: "prove on this device that an address's keys sign, encrypt, decrypt and verify", run: runSelftest})
}

func runSelftest(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "selftest", "ADDRESS [--json] [--home DIR]")
	asJSON := fs.Bool("json", false, "print JSON")
	home := homeFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("selftest takes one ADDRESS")
	}
	a, err := openAgent(e, *home)
	if err != nil {
		return err
	}
	checks, err := a.Selftest(ctx, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		if err := printJSON(e, checks); err != nil {
			return err
		}
	}
	failed := 0
	for _, c := range checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
			failed++
		}
		if !*asJSON {
			fmt.Fprintf(e.stdout, "%s %s: %s\n", mark, c.Name, c.Detail)
		}
	}
	if failed > 0 {
		return errors.New("self test failed")
	}
	return nil
}
