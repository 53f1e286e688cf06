package agent

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/smime"
)

// contactsClient is a hand-written fake mail client with an address book
// that records the peers it was asked to import.
type contactsClient struct {
	own      string
	contacts []string
	running  bool
	imported [][]clients.Peer
}

func (c *contactsClient) Identities(context.Context) ([]clients.Identity, error) {
	return []clients.Identity{{Client: "fake", Address: c.own}}, nil
}
func (c *contactsClient) Apply(context.Context, clients.Material) (clients.Report, error) {
	return clients.Report{}, nil
}
func (c *contactsClient) Revert(context.Context, string) (clients.Report, error) {
	return clients.Report{}, nil
}
func (c *contactsClient) Contacts(context.Context) ([]string, error) { return c.contacts, nil }
func (c *contactsClient) ImportPeers(_ context.Context, peers []clients.Peer) (clients.Report, error) {
	if c.running {
		return clients.Report{}, fmt.Errorf("fake: %w", clients.ErrClientRunning)
	}
	c.imported = append(c.imported, peers)
	return clients.Report{Actions: []string{fmt.Sprintf("imported %d", len(peers))}}, nil
}

func (c *contactsClient) RevertPeers(context.Context) (clients.Report, error) {
	if c.running {
		return clients.Report{}, fmt.Errorf("fake: %w", clients.ErrClientRunning)
	}
	if len(c.imported) == 0 {
		return clients.Report{}, nil
	}
	c.imported = nil
	return clients.Report{Actions: []string{"reverted"}}, nil
}

var _ clients.Contacts = (*contactsClient)(nil)

func TestSyncContactsImportsPeersKeys(t *testing.T) {
	url, _ := startMesh(t)
	bobAgent := openAgent(t)
	const bob = "bob@example.com"
	if _, err := bobAgent.Init(ctxT(t), bob, url, "bob's laptop"); err != nil {
		t.Fatal(err)
	}
	res, err := bobAgent.Enable(ctxT(t), EnableOptions{Address: bob, Name: "Bob", SMIMEKey: smime.P256})
	if err != nil {
		t.Fatal(err)
	}
	a := openAgent(t)
	if _, err := a.Init(ctxT(t), alice, url, "laptop"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ListContacts(ctxT(t)); !errors.Is(err, ErrNoContactsClient) {
		t.Errorf("ListContacts without a client: got %v, want ErrNoContactsClient", err)
	}
	tb := &contactsClient{own: "Alice@example.com", contacts: []string{alice, "Bob@Example.com", "carol@example.com"}}
	closed := &contactsClient{own: alice, contacts: []string{bob}, running: true}
	a.Clients = []NamedClient{{Name: "tb", Configurator: tb}, {Name: "closed", Configurator: closed}}

	out, err := a.SyncContactsWith(ctxT(t), LookupOptions{NoWKD: true})
	if err != nil || len(out) != 2 {
		t.Fatalf("SyncContacts: got %+v, %v", out, err)
	}
	want := []Contact{
		{Address: alice, State: ContactOwn},
		{Address: bob, State: ContactFound, OpenPGP: res.OpenPGP},
		{Address: "carol@example.com", State: ContactNoKey},
	}
	for i, c := range out[0].Contacts {
		if c.Address != want[i].Address || c.State != want[i].State || c.OpenPGP != want[i].OpenPGP {
			t.Errorf("contact %d: got %+v, want %+v", i, c, want[i])
		}
	}
	if out[0].Err != nil || len(tb.imported) != 1 || len(tb.imported[0]) != 1 {
		t.Fatalf("import into tb: %v, imported %+v; want one peer", out[0].Err, tb.imported)
	}
	p := tb.imported[0][0]
	if p.Address != bob || len(p.OpenPGP) == 0 || len(p.SMIME) != 2 || p.SMIME[0].EmailAddresses[0] != bob || !p.SMIME[1].IsCA {
		t.Errorf("peer imported: %s, %d bytes OpenPGP, %d certificates; want Bob's key and his leaf then CA", p.Address, len(p.OpenPGP), len(p.SMIME))
	}
	if !errors.Is(out[1].Err, clients.ErrClientRunning) || out[1].Contacts[0].State != ContactFound {
		t.Errorf("running client: got %+v, want ErrClientRunning after Bob's key was found", out[1])
	}

	list, err := a.ListContacts(ctxT(t))
	if err != nil || list[0].Contacts[1].State != ContactFound || list[0].Contacts[2].State != ContactNoKey || len(tb.imported) != 1 {
		t.Errorf("ListContacts after sync: %+v, %v; want Bob found, carol without key, nothing imported", list, err)
	}

	rev, err := a.RevertPeers(ctxT(t))
	if err != nil || len(rev) != 2 || rev[0].Client != "tb" || !rev[0].Report.Changed() || len(tb.imported) != 0 {
		t.Fatalf("RevertPeers: got %+v, %v; want tb reverted", rev, err)
	}
	if !errors.Is(rev[1].Err, clients.ErrClientRunning) {
		t.Errorf("RevertPeers on the running client: got %v, want ErrClientRunning", rev[1].Err)
	}
	a.Clients = nil
	if _, err := a.RevertPeers(ctxT(t)); !errors.Is(err, ErrNoContactsClient) {
		t.Errorf("RevertPeers without a client: got %v, want ErrNoContactsClient", err)
	}
}
