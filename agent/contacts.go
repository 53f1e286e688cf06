package agent

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/lookup"
)

// Key states of a [Contact].
const (
	ContactOwn     = "own"       // one of the user's own addresses: never looked up
	ContactFound   = "found"     // the lookup chain has a key
	ContactNoKey   = "no key"    // the chain found none (or: none known yet)
	ContactUnknown = "not known" // not looked up yet (ListContacts only)
	ContactFailed  = "failed"    // the lookup failed; Error says why
)

// Contact is one address a client's user writes to, with its key state.
type Contact struct {
	Address string `json:"address"`
	State   string `json:"state"`             // ContactOwn, ContactFound, …
	Source  string `json:"source,omitempty"`  // where the key came from
	OpenPGP string `json:"openpgp,omitempty"` // fingerprint
	SMIME   string `json:"smime,omitempty"`   // SHA-256 of the certificate
	Error   string `json:"error,omitempty"`
}

// ContactsResult is what one client listed and, for SyncContacts, what its
// import did.
type ContactsResult struct {
	Client   string
	Contacts []Contact
	Report   clients.Report
	Err      error
}

// ListContacts lists, for each client that can read contacts, the
// addresses found and the key the cache knows for each. It asks no source.
func (a *Agent) ListContacts(ctx context.Context) ([]ContactsResult, error) {
	return a.contacts(ctx, func(addr string) Contact {
		k, err := a.KnownKeys(ctx, addr)
		switch {
		case errors.Is(err, lookup.ErrNotFound):
			return Contact{Address: addr, State: ContactUnknown}
		case err != nil:
			return Contact{Address: addr, State: ContactFailed, Error: err.Error()}
		case k.Current == nil:
			return Contact{Address: addr, State: ContactNoKey}
		}
		return found(addr, k.Current)
	}, nil)
}

// SyncContacts looks up the keys of every contact of every client that can
// read contacts (the cache makes repeated lookups cheap; own addresses are
// skipped) and imports what was found into that client. Errors are per
// client, as in [ClientResult]: a running client is reported with an error
// wrapping clients.ErrClientRunning for a retry when it exits.
func (a *Agent) SyncContacts(ctx context.Context) ([]ContactsResult, error) {
	return a.SyncContactsWith(ctx, LookupOptions{})
}

// SyncContactsWith is SyncContacts with lookup options.
func (a *Agent) SyncContactsWith(ctx context.Context, opt LookupOptions) ([]ContactsResult, error) {
	records := map[string]*lookup.Record{}
	return a.contacts(ctx, func(addr string) Contact {
		o, err := a.LookupWith(ctx, addr, opt)
		switch {
		case errors.Is(err, lookup.ErrNotFound):
			return Contact{Address: addr, State: ContactNoKey}
		case err != nil:
			return Contact{Address: addr, State: ContactFailed, Error: err.Error()}
		}
		records[addr] = o.Key
		return found(addr, o.Key)
	}, func(c clients.Contacts, list []Contact) (clients.Report, error) {
		var peers []clients.Peer
		for _, ct := range list {
			if rec := records[ct.Address]; rec != nil {
				p, err := peer(ct.Address, rec)
				if err != nil {
					return clients.Report{}, err
				}
				peers = append(peers, p)
			}
		}
		if len(peers) == 0 {
			return clients.Report{}, nil
		}
		return c.ImportPeers(ctx, peers)
	})
}

// ErrNoContactsClient means no configured mail client can read contacts.
var ErrNoContactsClient = errors.New("no mail client on this device can read contacts")

// contacts runs state on each contact of each client (once per address
// across clients), then, when set, importer on the client.
func (a *Agent) contacts(ctx context.Context, state func(string) Contact, importer func(clients.Contacts, []Contact) (clients.Report, error)) ([]ContactsResult, error) {
	own, ownErr := a.ownAddresses(ctx)
	seen := map[string]Contact{}
	var out []ContactsResult
	for _, nc := range a.Clients {
		c, ok := nc.Configurator.(clients.Contacts)
		if !ok {
			continue
		}
		res := ContactsResult{Client: nc.Name}
		addrs, err := c.Contacts(ctx)
		if err != nil {
			res.Err = err
			out = append(out, res)
			continue
		}
		for _, addr := range addrs {
			addr = strings.ToLower(addr)
			ct, done := seen[addr]
			switch {
			case done:
			case own[addr]:
				ct = Contact{Address: addr, State: ContactOwn}
			default:
				ct = state(addr)
			}
			seen[addr] = ct
			res.Contacts = append(res.Contacts, ct)
		}
		if importer != nil {
			res.Report, res.Err = importer(c, res.Contacts)
		}
		res.Err = errors.Join(res.Err, ownErr)
		out = append(out, res)
	}
	if out == nil {
		return nil, ErrNoContactsClient
	}
	return out, nil
}

// ownAddresses are the addresses of every identity in the local clients.
func (a *Agent) ownAddresses(ctx context.Context) (map[string]bool, error) {
	ids, err := a.Identities(ctx)
	own := map[string]bool{}
	for _, id := range ids {
		own[strings.ToLower(strings.TrimSpace(id.Address))] = true
	}
	if err != nil {
		err = fmt.Errorf("own addresses (not looked up) may be incomplete: %w", err)
	}
	return own, err
}

func found(addr string, rec *lookup.Record) Contact {
	return Contact{Address: addr, State: ContactFound, Source: rec.Source,
		OpenPGP: rec.Fingerprint, SMIME: rec.SMIMEFingerprint}
}

// peer turns a verified lookup record into what a client imports.
func peer(addr string, rec *lookup.Record) (clients.Peer, error) {
	p := clients.Peer{Address: addr, OpenPGP: rec.OpenPGP}
	for _, der := range rec.SMIME {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return clients.Peer{}, fmt.Errorf("cached S/MIME certificate of %s: %w", addr, err)
		}
		p.SMIME = append(p.SMIME, c)
	}
	return p, nil
}

// RevertPeers takes out of every client that imports contacts' keys what
// the imports put there, keeping what the user decided since
// ([clients.Contacts] RevertPeers). Errors are per client, as in
// SyncContacts: a running client is reported with an error wrapping
// clients.ErrClientRunning, to be retried when it exits.
func (a *Agent) RevertPeers(ctx context.Context) ([]ContactsResult, error) {
	var out []ContactsResult
	for _, nc := range a.Clients {
		c, ok := nc.Configurator.(clients.Contacts)
		if !ok {
			continue
		}
		rep, err := c.RevertPeers(ctx)
		out = append(out, ContactsResult{Client: nc.Name, Report: rep, Err: err})
	}
	if out == nil {
		return nil, ErrNoContactsClient
	}
	return out, nil
}
