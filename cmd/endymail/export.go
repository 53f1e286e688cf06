package main

import (
	"bytes"
	"context"
	"os"

	"github.com/endymail/endymail/internal/atomicfile"
)

func init() {
	register(&command{name: "export", summary: "export an address's certificate or keys", run: runExport})
}

func runExport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "export", "ADDRESS --format p12|cert|chain|openpgp-public|openpgp-secret [--out FILE] [--password-file F] [--home DIR]")
	format := fs.String("format", "", "`FORMAT`: p12, cert, chain, openpgp-public or openpgp-secret")
	out := fs.String("out", "", "write to `FILE` (mode 0600) instead of stdout")
	pwFile := fs.String("password-file", "", "read the password protecting a private key from `FILE` (first line)")
	home := homeFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *format == "" {
		return usageErrorf("export takes one ADDRESS and --format")
	}
	var pw []byte
	if *pwFile != "" {
		b, err := os.ReadFile(*pwFile)
		if err != nil {
			return err
		}
		pw, _, _ = bytes.Cut(b, []byte("\n"))
		pw = bytes.TrimSuffix(pw, []byte("\r"))
	}
	a, err := openAgent(e, *home)
	if err != nil {
		return err
	}
	data, err := a.Export(ctx, pos[0], *format, pw)
	if err != nil {
		return withHint(err, "private keys (p12, openpgp-secret) need --password-file")
	}
	if *out == "" {
		_, err = e.stdout.Write(data)
		return err
	}
	return atomicfile.WriteFile(*out, data, 0o600)
}
