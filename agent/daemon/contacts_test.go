package daemon_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/agent/daemon"
	"github.com/endymail/endymail/clients"
)

// contactsRecorder is a recorder that also has an address book; it counts
// how often the agent reads it.
type contactsRecorder struct {
	*recorder
	reads, reverts atomic.Int32
}

var _ clients.Contacts = (*contactsRecorder)(nil)

func (c *contactsRecorder) Contacts(context.Context) ([]string, error) {
	c.reads.Add(1)
	return []string{"bob@example.org"}, nil
}

func (c *contactsRecorder) ImportPeers(context.Context, []clients.Peer) (clients.Report, error) {
	return clients.Report{}, nil
}

func (c *contactsRecorder) RevertPeers(context.Context) (clients.Report, error) {
	c.reverts.Add(1)
	return clients.Report{}, nil
}

// The daemon syncs the contacts' keys while an address is enabled; once the
// last one is disabled (here or on another device) it reverts the imports
// instead.
func TestContactsSyncOnlyWhileAnAddressIsEnabled(t *testing.T) {
	m := startMesh(t)
	a := newAdmin(t, m.URL())
	cr := &contactsRecorder{recorder: newRecorder(alice)}
	a.Clients = []agent.NamedClient{{Name: "rec", Configurator: cr}}
	d, err := daemon.New(daemon.Config{Agent: a, ThunderbirdRoots: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Reconcile(ctxT(t), "asked by the CLI"); err != nil {
		t.Fatal(err)
	}
	if n, r := cr.reads.Load(), cr.reverts.Load(); n == 0 || r != 0 {
		t.Fatalf("with %s enabled: the address book was read %d times, imports reverted %d times; want at least once and never", alice, n, r)
	}
	if _, err := a.Disable(ctxT(t), alice, false); err != nil {
		t.Fatal(err)
	}
	before := cr.reads.Load()
	if _, err := d.Reconcile(ctxT(t), "asked by the CLI"); err != nil {
		t.Fatal(err)
	}
	if n := cr.reads.Load(); n != before {
		t.Errorf("with no address enabled: the address book was read %d more times, want no sync", n-before)
	}
	if n := cr.reverts.Load(); n == 0 {
		t.Errorf("with no address enabled: RevertPeers called %d times, want at least once", n)
	}
}
