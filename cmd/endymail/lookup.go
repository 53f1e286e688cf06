package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/lookup"
)

func init() {
	register(&command{name: "lookup", summary: "find a recipient's public keys (mesh, WKD, keyserver)", run: runLookup})
	register(&command{name: "keys", summary: "show a recipient's known key and its change history", run: runKeys})
}

func runLookup(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "lookup", "ADDRESS [--json] [--refresh] [--vks URL] [--no-wkd] [--home DIR]")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	refresh := fs.Bool("refresh", false, "ask the sources even when the cached answer is fresh")
	vks := fs.String("vks", "", "also ask the VKS keyserver at `URL` (e.g. https://keys.openpgp.org)")
	noWKD := fs.Bool("no-wkd", false, "do not ask the Web Key Directory")
	home := homeFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("lookup takes one ADDRESS")
	}
	a, err := openAgent(e, *home)
	if err != nil {
		return err
	}
	out, err := a.LookupWith(ctx, pos[0], agent.LookupOptions{VKS: *vks, NoWKD: *noWKD, Refresh: *refresh})
	if *asJSON && out != nil {
		if jerr := printJSON(e, out); jerr != nil {
			return jerr
		}
	} else if out != nil {
		printOutcome(e, out)
	}
	if errors.Is(err, lookup.ErrNotFound) {
		return withHint(err, "the recipient has published no key where endymail looks (mesh, WKD, certificates of received signed mail); try --vks https://keys.openpgp.org")
	}
	return err
}

func printOutcome(e *env, o *lookup.Outcome) {
	for _, r := range o.Rejected {
		fmt.Fprintf(e.stdout, "rejected from %s: %s\n", where(r.Source, r.URL), r.Reason)
	}
	if k := o.Key; k != nil {
		cached := ""
		if o.Cached {
			cached = " (cached)"
		}
		fmt.Fprintf(e.stdout, "%s: key from %s%s\n", o.Address, where(k.Source, k.URL), cached)
		printRecord(e, "  ", k)
	}
	if c := o.Change; c != nil {
		printChange(e, *c)
	}
}

func printRecord(e *env, indent string, k *lookup.Record) {
	if k.Fingerprint != "" {
		fmt.Fprintf(e.stdout, "%sOpenPGP %s\n", indent, k.Fingerprint)
	}
	if k.SMIMEFingerprint != "" {
		fmt.Fprintf(e.stdout, "%sS/MIME certificate SHA-256 %s (chain of %d)\n", indent, k.SMIMEFingerprint, len(k.SMIME))
	}
	if k.Account != "" {
		fmt.Fprintf(e.stdout, "%spublished by account %s (log entry %d)\n", indent, k.Account, k.Seq)
	}
	fmt.Fprintf(e.stdout, "%sfetched %s\n", indent, k.Fetched.Format(time.RFC3339))
}

func printChange(e *env, c lookup.Change) {
	verb := "KEPT the known key"
	if c.Adopted {
		verb = "adopted the new key"
	}
	fmt.Fprintf(e.stdout, "KEY CHANGE %s from %s: %s -> %s: %s (%s)\n", c.Time.Format(time.RFC3339), c.Source, c.Old, c.New, verb, c.Reason)
}

func where(source, url string) string {
	if url == "" {
		return source
	}
	return source + " " + url
}

func runKeys(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "keys", "ADDRESS [--accept FINGERPRINT] [--json] [--home DIR]")
	asJSON := fs.Bool("json", false, "print as JSON")
	accept := fs.String("accept", "", "adopt the held-back key with this `FINGERPRINT`")
	home := homeFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("keys takes one ADDRESS")
	}
	a, err := openAgent(e, *home)
	if err != nil {
		return err
	}
	var k *lookup.Known
	if *accept != "" {
		k, err = a.AcceptKey(ctx, pos[0], *accept)
	} else {
		k, err = a.KnownKeys(ctx, pos[0])
	}
	if errors.Is(err, lookup.ErrNotFound) {
		return withHint(err, "run 'endymail lookup "+pos[0]+"' first")
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e, k)
	}
	printKnown(e, k)
	return nil
}

func printKnown(e *env, k *lookup.Known) {
	if k.Current == nil {
		fmt.Fprintf(e.stdout, "%s: no key known (last checked %s)\n", k.Address, k.Checked.Format(time.RFC3339))
	} else {
		fmt.Fprintf(e.stdout, "%s: key from %s\n", k.Address, where(k.Current.Source, k.Current.URL))
		printRecord(e, "  ", k.Current)
	}
	if k.Pending != nil {
		fmt.Fprintf(e.stdout, "held back: a different key from %s\n", where(k.Pending.Source, k.Pending.URL))
		printRecord(e, "  ", k.Pending)
	}
	if len(k.Changes) == 0 {
		fmt.Fprintln(e.stdout, "changes: none")
	}
	for _, c := range k.Changes {
		printChange(e, c)
	}
	for _, r := range k.Rejections {
		fmt.Fprintf(e.stdout, "rejected %s from %s: %s\n", r.Time.Format(time.RFC3339), where(r.Source, r.URL), r.Reason)
	}
}

// stringList is a repeatable string flag (mesh serve --wkd-domain).
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }
