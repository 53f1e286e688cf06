package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/endymail/endymail/mesh/proto"
)

func init() {
	register(&command{name: "bundle", summary: "store or read an end-to-end encrypted bundle (put NAME FILE | get NAME)", run: runBundle})
}

func runBundle(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bundle", "put NAME FILE|- | get NAME [--home DIR]")
	home := homeFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 || (pos[0] == "put") != (len(pos) == 3) || (pos[0] != "put" && pos[0] != "get") {
		return usageErrorf("bundle put NAME FILE, or bundle get NAME")
	}
	a, err := openAgent(e, *home)
	if err != nil {
		return err
	}
	if pos[0] == "get" {
		content, err := a.GetBundle(ctx, pos[1])
		if err != nil {
			return err
		}
		_, err = e.stdout.Write(content)
		return err
	}
	content, err := readInput(e, pos[2], proto.MaxBlobSize/2)
	if err != nil {
		return err
	}
	ref, err := a.PutBundle(ctx, pos[1], content)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "stored bundle %s version %d for %d devices\n", ref.Name, ref.Version, len(ref.Devices))
	return nil
}

// readInput reads a file (or stdin for "-"), at most limit bytes.
func readInput(e *env, name string, limit int64) ([]byte, error) {
	var r io.Reader = e.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, limit)
	}
	return b, nil
}
