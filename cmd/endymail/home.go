package main

import (
	"encoding/json"
	"flag"
	"fmt"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/device"
)

// homeFlag adds --home to fs.
func homeFlag(fs *flag.FlagSet) *string {
	return fs.String("home", "", "device home `DIR` (default $ENDYMAIL_HOME or the user's config dir)")
}

// openAgent opens the agent for --home, printing progress to stderr.
func openAgent(e *env, home string) (*agent.Agent, error) {
	if home == "" {
		var err error
		if home, err = device.DefaultDir(e.getenv); err != nil {
			return nil, err
		}
	}
	a, err := agent.Open(home)
	if err != nil {
		return nil, err
	}
	a.Progress = func(s string) { fmt.Fprintln(e.stderr, s) }
	return a, nil
}

// printJSON writes v as indented JSON to stdout.
func printJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
