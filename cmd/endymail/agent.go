package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/agent/daemon"
	"github.com/endymail/endymail/agent/localapi"
	"github.com/endymail/endymail/agent/prompt"
	"github.com/endymail/endymail/device"
)

func init() {
	register(&command{name: "agent", summary: "run the agent (keeps clients configured, asks about new devices); install|uninstall|status for login", run: runAgent})
}

// agentLogFile is the agent's log in the device home; a log beyond
// maxAgentLog bytes is moved aside to agent.log.1 when the agent starts.
const (
	agentLogFile = "agent.log"
	maxAgentLog  = 4 << 20
)

func runAgent(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return runAgentLogin(ctx, e, args[0], args[1:])
	}
	fs := newFlags(e, "agent", "[--log-level debug|info|warn|error] [--home DIR]  |  agent install|uninstall|status")
	level := fs.String("log-level", "info", "least `LEVEL` logged: debug, info, warn or error")
	home := homeFlag(fs)
	if err := noArgs(fs, args); err != nil {
		return err
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return usageErrorf("--log-level %q: want debug, info, warn or error", *level)
	}
	a, err := openAgent(e, *home)
	if err != nil {
		return err
	}
	a.Progress = nil
	logPath := a.Home().Path(agentLogFile)
	if fi, err := os.Stat(logPath); err == nil && fi.Size() > maxAgentLog {
		os.Rename(logPath, logPath+".1") // keep one older log
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("agent log: %w", err)
	}
	defer logf.Close()
	log := newAgentLogger(lv, logf, e.stderr)
	d, err := daemon.New(daemon.Config{Agent: a, Log: log, Prompter: defaultPrompter(log)})
	if err != nil {
		return err
	}
	return serveAgent(ctx, d, a, log)
}

// newAgentLogger logs text a user can read to the log file and stderr.
func newAgentLogger(level slog.Level, file, stderr io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	return slog.New(slog.NewMultiHandler(slog.NewTextHandler(file, opts), slog.NewTextHandler(stderr, opts)))
}

// agentHome resolves --home like the other commands.
func agentHome(e *env, home string) (string, error) {
	if home != "" {
		return home, nil
	}
	return device.DefaultDir(e.getenv)
}

// serveAgent runs the daemon and the local API until ctx ends. Without
// the local API (an unsupported platform) the agent still runs; the CLI
// then works directly.
func serveAgent(ctx context.Context, d *daemon.Daemon, a *agent.Agent, log *slog.Logger) error {
	ln, err := localapi.Listen(a.Home().Dir(), func(uid int, err error) {
		log.Warn("refused a local API connection from another user", "uid", uid, "err", err)
	})
	switch {
	case errors.Is(err, errors.ErrUnsupported):
		log.Info("no local API on this platform; the CLI works directly")
	case err != nil:
		return err
	default:
		go func() {
			if err := localapi.Serve(ctx, ln, localapi.FromDaemon(d, a)); err != nil {
				log.Error("local API stopped", "err", err)
			}
		}()
		defer os.Remove(a.Home().Path(localapi.SocketName))
	}
	return d.Run(ctx)
}

// defaultPrompter is the platform's approval prompt, or nil (the CLI path
// only) when there is none.
func defaultPrompter(log *slog.Logger) prompt.Prompter {
	p, err := prompt.Default()
	if err != nil {
		log.Info("no desktop prompt for approvals; use 'endymail pending' and 'endymail approve'", "why", err)
		return nil
	}
	return p
}
