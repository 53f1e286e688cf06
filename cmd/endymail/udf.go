package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/endymail/endymail/udf"
)

func init() {
	register(&command{
		name:    "udf",
		summary: "print the UDF fingerprint of a file or of standard input",
		run:     runUDF,
	})
}

func runUDF(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "udf", "[--type CONTENT-TYPE] [--bits N] [--sha3] [FILE]")
	contentType := fs.String("type", udf.OctetStream, "content (MIME) type of the data")
	bits := fs.Int("bits", udf.DefaultBits, fmt.Sprintf("presentation length in bits, %d to %d", udf.MinBits, udf.MaxBits))
	sha3 := fs.Bool("sha3", false, "use SHA3-512 instead of SHA-512")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageErrorf("udf takes at most one FILE, got %d", len(pos))
	}
	if *bits < udf.MinBits || *bits > udf.MaxBits {
		return usageErrorf("--bits %d is outside %d to %d", *bits, udf.MinBits, udf.MaxBits)
	}
	h := udf.SHA2
	if *sha3 {
		h = udf.SHA3
	}

	in, name := e.stdin, "standard input"
	if len(pos) == 1 && pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		in, name = f, pos[0]
	}
	fp, err := udf.DigestReader(h, *contentType, in)
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	_, err = io.WriteString(e.stdout, fp.Format(*bits)+"\n")
	return err
}
