package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/clients"
)

func init() {
	register(&command{name: "contacts", summary: "list the mail clients' contacts and their keys; 'contacts sync' looks them up and imports them, 'contacts revert' takes them out again", run: runContacts})
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
	fs := newFlags(e, "contacts", "[sync|revert] [--json] [--refresh] [--vks URL] [--no-wkd] [--home DIR]")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	refresh := fs.Bool("refresh", false, "sync: ask the sources even when the cached answer is fresh")
	vks := fs.String("vks", "", "sync: also ask the VKS keyserver at `URL`")
	noWKD := fs.Bool("no-wkd", false, "sync: do not ask the Web Key Directory")
	home := homeFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	mode := "list"
	if len(pos) == 1 {
		mode = pos[0]
	}
	if len(pos) > 1 || mode != "list" && mode != "sync" && mode != "revert" {
		return usageErrorf("contacts takes no argument but 'sync' or 'revert'")
	}
	a, err := openAgent(e, *home)
	if err != nil {
		return err
	}
	var results []agent.ContactsResult
	switch mode {
	case "sync":
		results, err = a.SyncContactsWith(ctx, agent.LookupOptions{VKS: *vks, NoWKD: *noWKD, Refresh: *refresh})
	case "revert":
		results, err = a.RevertPeers(ctx)
	default:
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
	} else {
		for _, r := range results {
			if mode == "revert" {
				printRevert(e, r)
			} else {
				printContacts(e, r, mode == "sync")
			}
		}
	}
	if mode == "revert" {
		return revertFailures(results)
	}
	return failures(results)
}

// revertPeersIfLast takes the contacts' keys endymail imported out of the
// mail clients once no address of the account is enabled any more
// (`endymail disable` of the last one).
func revertPeersIfLast(ctx context.Context, e *env, a *agent.Agent) error {
	left, err := a.EnabledAddresses()
	if err != nil || len(left) > 0 {
		return err
	}
	results, err := a.RevertPeers(ctx)
	if errors.Is(err, agent.ErrNoContactsClient) {
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "no address is enabled any more: taking the contacts' keys endymail imported out of the mail clients")
	for _, r := range results {
		printRevert(e, r)
	}
	return failures(results) // a running client is reported, as for the address itself
}

// printRevert prints what RevertPeers did in one client.
func printRevert(e *env, r agent.ContactsResult) {
	switch {
	case errors.Is(r.Err, clients.ErrClientRunning):
		fmt.Fprintf(e.stdout, "%s: running; the contacts' keys stay until it is closed and 'endymail contacts revert' runs\n", r.Client)
	case r.Err == nil && !r.Report.Changed():
		fmt.Fprintf(e.stdout, "%s: no imported contacts' keys to take out\n", r.Client)
	}
	printReport(e, r)
}

// revertFailures joins the clients' errors, a running client's included:
// nothing takes its imports out later.
func revertFailures(results []agent.ContactsResult) error {
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.Client, r.Err))
		}
	}
	err := errors.Join(errs...)
	if errors.Is(err, clients.ErrClientRunning) {
		return withHint(err, "close the mail client, then run 'endymail contacts revert'")
	}
	return err
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
	printReport(e, r)
}

// printReport prints a client's actions, deferred parts and warnings.
func printReport(e *env, r agent.ContactsResult) {
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
