//go:build unix && !darwin

package autostart

import (
	"context"
	"path/filepath"
	"strings"
)

const unitFile = Name + ".service"

func configHome(opt Options) string {
	if d := opt.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(d) {
		return d
	}
	return filepath.Join(opt.Home, ".config")
}

func unitPath(opt Options) string { return filepath.Join(configHome(opt), "systemd", "user", unitFile) }
func desktopPath(opt Options) string {
	return filepath.Join(configHome(opt), "autostart", Name+".desktop")
}

// hasUserSession reports whether a systemd user manager answers.
func hasUserSession(ctx context.Context, opt Options) bool {
	return opt.Run(ctx, "systemctl", "--user", "show-environment") == nil
}

func install(ctx context.Context, opt Options) (*Result, error) {
	if !hasUserSession(ctx, opt) {
		p := desktopPath(opt)
		wrote, err := writeOurs(p, desktopEntry(opt.Exe, opt.Args))
		res := &Result{Method: "xdg-autostart", Installed: err == nil, Files: []string{p}}
		if wrote {
			res.Actions = append(res.Actions, "wrote "+p+" (no systemd user session: the desktop starts the agent at login)")
		}
		return res, err
	}
	p := unitPath(opt)
	wrote, err := writeOurs(p, systemdUnit(opt.Exe, opt.Args))
	res := &Result{Method: "systemd", Files: []string{p}}
	if err != nil {
		return res, err
	}
	if wrote {
		res.Actions = append(res.Actions, "wrote "+p)
		if err := opt.Run(ctx, "systemctl", "--user", "daemon-reload"); err != nil {
			return res, err
		}
	}
	if err := opt.Run(ctx, "systemctl", "--user", "enable", "--now", unitFile); err != nil {
		return res, err
	}
	if wrote {
		res.Actions = append(res.Actions, "systemctl --user enable --now "+unitFile)
	}
	res.Installed = true
	return res, nil
}

func uninstall(ctx context.Context, opt Options) (*Result, error) {
	res := &Result{Method: "systemd"}
	up := unitPath(opt)
	if isOurs(up) {
		res.Installed = true
		if err := opt.Run(ctx, "systemctl", "--user", "disable", "--now", unitFile); err == nil {
			res.Actions = append(res.Actions, "systemctl --user disable --now "+unitFile)
		}
	}
	for _, p := range []string{up, desktopPath(opt)} {
		existed, err := removeOurs(p)
		if err != nil {
			return res, err
		}
		if existed {
			res.Installed = true
			res.Files = append(res.Files, p)
			res.Actions = append(res.Actions, "removed "+p)
			if p != up {
				res.Method = "xdg-autostart"
			}
		}
	}
	if len(res.Files) > 0 && res.Files[0] == up {
		opt.Run(ctx, "systemctl", "--user", "daemon-reload") // no session: nothing to reload
	}
	return res, nil
}

func status(ctx context.Context, opt Options) (*Result, error) {
	if p := unitPath(opt); isOurs(p) {
		res := &Result{Method: "systemd", Installed: true, Files: []string{p}}
		if opt.Run(ctx, "systemctl", "--user", "is-active", "--quiet", unitFile) == nil {
			res.Actions = append(res.Actions, "active")
		}
		return res, nil
	}
	if p := desktopPath(opt); isOurs(p) {
		return &Result{Method: "xdg-autostart", Installed: true, Files: []string{p}}, nil
	}
	return &Result{}, nil
}

// systemdUnit is the systemd user unit that runs the agent.
func systemdUnit(exe string, args []string) []byte {
	var b strings.Builder
	b.WriteString("# " + Marker + "\n")
	b.WriteString("[Unit]\nDescription=endymail agent: keeps mail clients set up for end-to-end encrypted mail\n\n")
	b.WriteString("[Service]\nType=simple\nExecStart=" + systemdCommand(exe, args) + "\n")
	b.WriteString("Restart=on-failure\nRestartSec=5s\n\n[Install]\nWantedBy=default.target\n")
	return []byte(b.String())
}

// desktopEntry is the XDG autostart entry that runs the agent.
func desktopEntry(exe string, args []string) []byte {
	var b strings.Builder
	b.WriteString("# " + Marker + "\n")
	b.WriteString("[Desktop Entry]\nType=Application\nName=endymail agent\n")
	b.WriteString("Comment=Keeps mail clients set up for end-to-end encrypted mail\n")
	b.WriteString("Exec=" + desktopCommand(exe, args) + "\n")
	b.WriteString("NoDisplay=true\nTerminal=false\nX-GNOME-Autostart-enabled=true\n")
	return []byte(b.String())
}
