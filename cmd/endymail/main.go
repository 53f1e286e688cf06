// Command endymail is end-to-end encrypted mail without setup: it creates and
// shares S/MIME and OpenPGP keys across a user's devices through the mesh and
// configures the mail clients on each device.
//
// Each subcommand lives in its own file and registers itself with [register].
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/endymail/endymail/clients/thunderbird/nsslib"
)

// command is one subcommand: its name, a one-line summary for `endymail help`,
// and run, which parses its own flags from args.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("endymail: duplicate command " + c.name)
	}
	commands[c.name] = c
}

// env is what a subcommand may touch of the outside world, so that tests can
// run the CLI in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// hintError carries a hint line shown after the error.
type hintError struct {
	err  error
	hint string
}

func (h *hintError) Error() string { return h.err.Error() }
func (h *hintError) Unwrap() error { return h.err }

// withHint wraps err so that main prints hint below it.
func withHint(err error, hint string) error { return &hintError{err: err, hint: hint} }

// errUsage marks a command-line mistake; main exits 2 for it.
var errUsage = errors.New("usage")

func usageErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

// newFlags returns a FlagSet for a subcommand that reports errors instead of
// exiting and prints its usage to e.stderr.
func newFlags(e *env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: endymail %s %s\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args with fs, turning flag errors into usage errors.
// Flags may follow positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func main() {
	nsslib.ServeIfHelper() // a child started by nsslib.Run: serve one NSS session and exit
	os.Exit(mainWithEnv(os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}))
}

// mainWithEnv runs the CLI and returns the process exit code.
func mainWithEnv(args []string, e *env) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "error: unknown command %q\nhint: run 'endymail help' for the list of commands\n", args[0])
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := c.run(ctx, e, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	}
	fmt.Fprintf(e.stderr, "error: %v\n", err)
	var h *hintError
	if errors.As(err, &h) && h.hint != "" {
		fmt.Fprintf(e.stderr, "hint: %s\n", h.hint)
	}
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "endymail: end-to-end encrypted mail without setup")
	fmt.Fprintln(w, "\nusage: endymail COMMAND [flags] [args]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
}

// noArgs parses flags for a command that takes no positional arguments.
func noArgs(fs *flag.FlagSet, args []string) error {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageErrorf("%s takes no arguments", fs.Name())
	}
	return nil
}
