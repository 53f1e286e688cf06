package autostart

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

func plistPath(opt Options) string {
	return filepath.Join(opt.Home, "Library", "LaunchAgents", launchdLabel+".plist")
}

func domain() string { return fmt.Sprintf("gui/%d", os.Getuid()) }

func install(ctx context.Context, opt Options) (*Result, error) {
	p := plistPath(opt)
	logPath := filepath.Join(opt.Home, "Library", "Logs", "endymail-agent.log")
	wrote, err := writeOurs(p, launchdPlist(opt.Exe, opt.Args, logPath))
	res := &Result{Method: "launchd", Files: []string{p}}
	if err != nil {
		return res, err
	}
	if wrote {
		res.Actions = append(res.Actions, "wrote "+p)
		opt.Run(ctx, "launchctl", "bootout", domain(), p) // an older version may be loaded
		if err := opt.Run(ctx, "launchctl", "bootstrap", domain(), p); err != nil {
			return res, err
		}
		res.Actions = append(res.Actions, "launchctl bootstrap "+domain())
	}
	res.Installed = true
	return res, nil
}

func uninstall(ctx context.Context, opt Options) (*Result, error) {
	p := plistPath(opt)
	res := &Result{Method: "launchd"}
	if isOurs(p) {
		if opt.Run(ctx, "launchctl", "bootout", domain(), p) == nil {
			res.Actions = append(res.Actions, "launchctl bootout "+domain())
		}
	}
	existed, err := removeOurs(p)
	if existed {
		res.Installed, res.Files = true, []string{p}
		res.Actions = append(res.Actions, "removed "+p)
	}
	return res, err
}

func status(ctx context.Context, opt Options) (*Result, error) {
	p := plistPath(opt)
	if !isOurs(p) {
		return &Result{}, nil
	}
	return &Result{Method: "launchd", Installed: true, Files: []string{p}}, nil
}
