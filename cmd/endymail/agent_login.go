package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/endymail/endymail/agent/autostart"
)

// runAgentLogin runs `endymail agent install|uninstall|status`: the agent's
// registration to start at login, for this user only.
func runAgentLogin(ctx context.Context, e *env, sub string, args []string) error {
	var do func(context.Context, autostart.Options) (*autostart.Result, error)
	switch sub {
	case "install":
		do = autostart.Install
	case "uninstall":
		do = autostart.Uninstall
	case "status":
		do = autostart.Status
	default:
		return usageErrorf("agent %s: unknown subcommand (want install, uninstall or status)", sub)
	}
	fs := newFlags(e, "agent "+sub, "[--home DIR]")
	home := fs.String("home", "", "device home `DIR` the agent runs with (default: the agent's own default)")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return err
	}
	opt := autostart.Options{Exe: exe, Args: []string{"agent"}, Getenv: e.getenv}
	if *home != "" {
		abs, err := filepath.Abs(*home)
		if err != nil {
			return err
		}
		opt.Args = append(opt.Args, "--home", abs)
	}
	res, err := do(ctx, opt)
	if err != nil {
		return err
	}
	for _, a := range res.Actions {
		fmt.Fprintf(e.stdout, "%s\n", a)
	}
	switch {
	case sub == "install" && len(res.Actions) == 0:
		fmt.Fprintf(e.stdout, "already installed (%s: %s)\n", res.Method, res.Files[0])
	case sub == "install":
		fmt.Fprintf(e.stdout, "installed: the agent starts when you log in (%s)\n", res.Method)
	case sub == "uninstall" && !res.Installed:
		fmt.Fprintln(e.stdout, "not installed; nothing to remove")
	case sub == "status" && !res.Installed:
		fmt.Fprintln(e.stdout, "not installed (endymail agent install)")
	case sub == "status":
		fmt.Fprintf(e.stdout, "installed: %s (%v)\n", res.Method, res.Files)
	}
	return nil
}
