package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/clients"
)

func init() {
	register(&command{name: "contacts", summary: "list the mail clients' contacts and their keys; 'contacts sync' looks them up and imports them", run: runContacts})
}

// contactsView is the --json form of one client's result.
type contactsView struct {
	Client   string          `json:"client"`
	Contacts []agent.Contact `json:"contacts"`
	Actions  []string        `json:"actions,omitempty"`
	Deferred []string        `json:"deferred,omitempty"`
	Warnings []string        `json:"warnings,omitempty"`
	Running  bool            `json:"running,omitempty"`
	Error    string          `json:"error,omitempty"`
}

func runContacts(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "contacts", "[sync] [--json] [--refresh] [--vks URL] [--no-wkd] [--home DIR]")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	refresh := fs.Bool("refresh", false, "sync: ask the sources even when the cached answer is fresh")
	vks := fs.String("vks", "", "sync: also ask the VKS keyserver at `URL`")
	noWKD := fs.Bool("no-wkd", false, "sync: do not ask the Web Key Directory")
	home := homeFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	sync := len(pos) == 1 && pos[0] == "sync"
	if len(pos) > 1 || len(pos) == 1 && !sync {
		return usageErrorf("contacts takes no argument but 'sync'")
	}
	a, err := openAgent(e, *home)
	if err != nil {
		return err
	}
	var results []agent.ContactsResult
	if sync {
		results, err = a.SyncContactsWith(ctx, agent.LookupOptions{VKS: *vks, NoWKD: *noWKD, Refresh: *refresh})
	} else {
		results, err = a.ListContacts(ctx)
	}
	if errors.Is(err, agent.ErrNoContactsClient) {
		return withHint(err, "endymail reads contacts from Thunderbird's address books")
	}
	if err != nil {
		return err
	}
	if *asJSON {
		views := make([]contactsView, 0, len(results))
		for _, r := range results {
			views = append(views, view(r))
		}
		if err := printJSON(e, views); err != nil {
			return err
		}
		return failures(results)
	}
	for _, r := range results {
		printContacts(e, r, sync)
	}
	return failures(results)
}

func view(r agent.ContactsResult) contactsView {
	v := contactsView{Client: r.Client, Contacts: r.Contacts, Actions: r.Report.Actions,
		Deferred: r.Report.Deferred, Warnings: r.Report.Warnings, Running: errors.Is(r.Err, clients.ErrClientRunning)}
	if v.Contacts == nil {
		v.Contacts = []agent.Contact{}
	}
	if r.Err != nil {
		v.Error = r.Err.Error()
	}
	return v
}

func printContacts(e *env, r agent.ContactsResult, sync bool) {
	fmt.Fprintf(e.stdout, "%s: %d contacts\n", r.Client, len(r.Contacts))
	for _, c := range r.Contacts {
		fmt.Fprintf(e.stdout, "  %-32s %s", c.Address, c.State)
		if c.Source != "" {
			fmt.Fprintf(e.stdout, " (%s)", c.Source)
		}
		if c.OpenPGP != "" {
			fmt.Fprintf(e.stdout, " OpenPGP %s", c.OpenPGP)
		}
		if c.SMIME != "" {
			fmt.Fprintf(e.stdout, " S/MIME %.16s…", c.SMIME)
		}
		if c.Error != "" {
			fmt.Fprintf(e.stdout, ": %s", c.Error)
		}
		fmt.Fprintln(e.stdout)
	}
	switch {
	case errors.Is(r.Err, clients.ErrClientRunning):
		fmt.Fprintf(e.stdout, "%s: running; the keys will be imported when it closes (run 'endymail contacts sync' then)\n", r.Client)
	case sync && r.Err == nil && !r.Report.Changed() && len(r.Report.Deferred) == 0 && anyFound(r.Contacts):
		fmt.Fprintf(e.stdout, "%s: keys already imported\n", r.Client)
	case sync && r.Err == nil && !anyFound(r.Contacts):
		fmt.Fprintf(e.stdout, "%s: no contact has a key to import\n", r.Client)
	}
	for _, act := range r.Report.Actions {
		fmt.Fprintf(e.stdout, "%s: %s\n", r.Client, act)
	}
	for _, d := range r.Report.Deferred {
		fmt.Fprintf(e.stdout, "%s: deferred: %s\n", r.Client, d)
	}
	for _, w := range r.Report.Warnings {
		fmt.Fprintf(e.stderr, "warning: %s: %s\n", r.Client, w)
	}
}

func anyFound(cs []agent.Contact) bool {
	for _, c := range cs {
		if c.State == agent.ContactFound {
			return true
		}
	}
	return false
}

// failures joins the clients' errors; a running client is not one.
func failures(results []agent.ContactsResult) error {
	var errs []error
	for _, r := range results {
		if r.Err != nil && !errors.Is(r.Err, clients.ErrClientRunning) {
			errs = append(errs, fmt.Errorf("%s: %w", r.Client, r.Err))
		}
	}
	return errors.Join(errs...)
}
