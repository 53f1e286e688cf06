package autostart

import (
	"context"

	"github.com/endymail/endymail/clients/windows/runkey"
	"github.com/endymail/endymail/clients/windows/winreg"
)

func install(ctx context.Context, opt Options) (*Result, error) {
	cmd, err := runkey.Command(opt.Exe, opt.Args...)
	if err != nil {
		return nil, err
	}
	reg, err := winreg.CurrentUser()
	if err != nil {
		return nil, err
	}
	res := &Result{Method: "run-key", Installed: true, Files: []string{`HKCU\` + runkey.Path + `\` + Name}}
	if old, ok, err := runkey.Get(reg, Name); err == nil && ok && old == cmd {
		return res, nil
	}
	if err := runkey.Set(reg, Name, cmd); err != nil {
		return nil, err
	}
	res.Actions = append(res.Actions, "set "+res.Files[0]+" to "+cmd)
	return res, nil
}

func uninstall(ctx context.Context, opt Options) (*Result, error) {
	reg, err := winreg.CurrentUser()
	if err != nil {
		return nil, err
	}
	res := &Result{Method: "run-key"}
	if _, ok, err := runkey.Get(reg, Name); err != nil || !ok {
		return res, err
	}
	if err := runkey.Remove(reg, Name); err != nil {
		return res, err
	}
	res.Installed, res.Files = true, []string{`HKCU\` + runkey.Path + `\` + Name}
	res.Actions = append(res.Actions, "removed "+res.Files[0])
	return res, nil
}

func status(ctx context.Context, opt Options) (*Result, error) {
	reg, err := winreg.CurrentUser()
	if err != nil {
		return nil, err
	}
	cmd, ok, err := runkey.Get(reg, Name)
	if err != nil || !ok {
		return &Result{}, err
	}
	return &Result{Method: "run-key", Installed: true, Files: []string{`HKCU\` + runkey.Path + `\` + Name}, Actions: []string{cmd}}, nil
}
