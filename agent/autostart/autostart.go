// Package autostart registers the agent to start when the user logs in,
// for this user only (DESIGN.md §8): a systemd user unit where a systemd
// user session runs, otherwise an XDG autostart entry (Linux and BSD); a
// LaunchAgent on macOS; the HKCU Run key on Windows. Nothing machine-wide,
// no root.
//
// Use [Install], [Uninstall] and [Status]. Files are written atomically;
// Uninstall removes exactly the files Install writes (recognised by their
// [Marker]) and undoes the registration. Other platforms get
// errors.ErrUnsupported.
package autostart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Name is the agent's registration name (unit, entry, value name).
const Name = "endymail-agent"

// Marker is in every file Install writes; Uninstall removes only files
// that carry it.
const Marker = "Written by `endymail agent install`; removed by `endymail agent uninstall`."

// Options say what to start and where the user's files are.
type Options struct {
	// Exe is the absolute path of the program to start; Args its
	// arguments (e.g. "agent").
	Exe  string
	Args []string
	// Home is the user's home folder; "" means os.UserHomeDir.
	Home string
	// Getenv reads the environment (XDG_CONFIG_HOME); nil means os.Getenv.
	Getenv func(string) string
	// Run runs a service manager command (systemctl, launchctl) and
	// returns its error; nil means running it for real.
	Run func(ctx context.Context, name string, args ...string) error
}

// Result says what was done or found.
type Result struct {
	Method    string   // "systemd", "xdg-autostart", "launchd", "run-key"
	Installed bool     // a registration exists (after Install, Uninstall: before)
	Files     []string // files written, removed or found
	Actions   []string // what was done, one line each; empty for a no-op
}

// ErrNotOurs means a file at the registration's path was not written by
// Install; it is left alone.
var ErrNotOurs = errors.New("file was not written by endymail agent install")

func (o *Options) fill() error {
	if o.Exe == "" || !filepath.IsAbs(o.Exe) {
		return fmt.Errorf("autostart: program path %q is not absolute", o.Exe)
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return err
		}
		o.Home = h
	}
	if o.Run == nil {
		o.Run = func(ctx context.Context, name string, args ...string) error {
			out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("%s %v: %w: %s", name, args, err, bytes.TrimSpace(out))
			}
			return nil
		}
	}
	return nil
}

// Install registers the agent; doing it again changes nothing.
func Install(ctx context.Context, opt Options) (*Result, error) {
	if err := opt.fill(); err != nil {
		return nil, err
	}
	return install(ctx, opt)
}

// Uninstall removes the registration and the files Install wrote.
func Uninstall(ctx context.Context, opt Options) (*Result, error) {
	if err := opt.fill(); err != nil {
		return nil, err
	}
	return uninstall(ctx, opt)
}

// Status says whether the agent is registered, and how.
func Status(ctx context.Context, opt Options) (*Result, error) {
	if err := opt.fill(); err != nil {
		return nil, err
	}
	return status(ctx, opt)
}
