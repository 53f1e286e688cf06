package clienttest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/endymail/endymail/clients"
)

// ContactsFixture describes, for a configurator that implements
// [clients.Contacts], the contacts and correspondents' keys of the fresh
// installation. [Run] checks that Fixture.Contacts is set whenever the
// configurator implements clients.Contacts.
type ContactsFixture struct {
	// Want are addresses the client's address books hold, lower case. The
	// fixture stores them in the books in mixed case and more than once.
	Want []string
	// Peers are correspondents' public keys the suite imports; none is
	// one of the client's own keys.
	Peers []clients.Peer
	// Verified lists the keys the client holds as verified by the user.
	// An import must never add one.
	Verified func(t testing.TB) []string
	// Decide makes, the way the user would in the client, a decision about
	// the imported keys of p other than the import's (for example accepts
	// the OpenPGP key as verified); the client is not running.
	Decide func(t testing.TB, p clients.Peer)
	// Decided reports whether the decision Decide made is in place.
	Decided func(t testing.TB, p clients.Peer) bool
}

// contactsTests are the subtests Run adds for a clients.Contacts.
var contactsTests = []struct {
	name string
	fn   func(t *testing.T, c clients.Contacts, f Fixture, cf *ContactsFixture)
}{
	{"ContactsListed", testContactsListed},
	{"ImportPeersTwiceIsNoOp", testImportTwice},
	{"RevertPeersRestores", testRevertPeers},
	{"UserDecisionKept", testUserDecision},
	{"PeersRunningClient", testPeersRunning},
}

// runContacts runs the Contacts subtests when the configurator implements
// clients.Contacts.
func runContacts(t *testing.T, newConfigurator func(t *testing.T) (clients.Configurator, Fixture)) {
	t.Run("Contacts", func(t *testing.T) {
		c, _ := newConfigurator(t)
		if _, ok := c.(clients.Contacts); !ok {
			t.Skip("the configurator does not implement clients.Contacts")
		}
		for _, tt := range contactsTests {
			t.Run(tt.name, func(t *testing.T) {
				c, f := newConfigurator(t)
				if f.Contacts == nil {
					t.Fatal("the configurator implements clients.Contacts but Fixture.Contacts is nil")
				}
				tt.fn(t, c.(clients.Contacts), f, f.Contacts)
			})
		}
	})
}

func testContactsListed(t *testing.T, c clients.Contacts, f Fixture, cf *ContactsFixture) {
	before := f.Snapshot(t)
	got, err := c.Contacts(context.Background())
	if err != nil {
		t.Fatalf("Contacts: %v", err)
	}
	seen := map[string]bool{}
	for _, a := range got {
		if a != strings.ToLower(a) {
			t.Errorf("Contacts: got %q, want lower case", a)
		}
		if seen[a] {
			t.Errorf("Contacts: got %q more than once", a)
		}
		seen[a] = true
	}
	for _, w := range cf.Want {
		if !seen[w] {
			t.Errorf("Contacts: got %q, want it to hold %s", got, w)
		}
	}
	same(t, "Contacts", before, f.Snapshot(t))
}

func testImportTwice(t *testing.T, c clients.Contacts, f Fixture, cf *ContactsFixture) {
	ctx := context.Background()
	r, err := c.ImportPeers(ctx, cf.Peers)
	if err != nil {
		t.Fatalf("first ImportPeers: %v", err)
	}
	if !r.Changed() {
		t.Fatalf("first ImportPeers: report lists no actions, want some")
	}
	if v := cf.Verified(t); len(v) != 0 {
		t.Errorf("after ImportPeers: got keys %q marked verified, want none", v)
	}
	again(t, "second ImportPeers", f, func() (clients.Report, error) { return c.ImportPeers(ctx, cf.Peers) })
}

func testRevertPeers(t *testing.T, c clients.Contacts, f Fixture, cf *ContactsFixture) {
	ctx := context.Background()
	before := f.Snapshot(t)
	if r, err := c.RevertPeers(ctx); err != nil || r.Changed() {
		t.Fatalf("RevertPeers before any import: got %q, %v; want no actions", r.Actions, err)
	}
	if _, err := c.ImportPeers(ctx, cf.Peers); err != nil {
		t.Fatalf("ImportPeers: %v", err)
	}
	r, err := c.RevertPeers(ctx)
	if err != nil {
		t.Fatalf("RevertPeers: %v", err)
	}
	if !r.Changed() {
		t.Errorf("RevertPeers: report lists no actions, want some")
	}
	if len(r.Warnings) != 0 {
		t.Errorf("RevertPeers with no user change: got warnings %q, want none", r.Warnings)
	}
	same(t, "ImportPeers then RevertPeers", before, f.Snapshot(t))
	again(t, "second RevertPeers", f, func() (clients.Report, error) { return c.RevertPeers(ctx) })
}

func testUserDecision(t *testing.T, c clients.Contacts, f Fixture, cf *ContactsFixture) {
	ctx := context.Background()
	if _, err := c.ImportPeers(ctx, cf.Peers); err != nil {
		t.Fatalf("ImportPeers: %v", err)
	}
	p := cf.Peers[0]
	cf.Decide(t, p)
	decided := f.Snapshot(t)
	if _, err := c.ImportPeers(ctx, cf.Peers); err != nil {
		t.Fatalf("ImportPeers after the user's decision: %v", err)
	}
	same(t, "ImportPeers after the user's decision", decided, f.Snapshot(t))
	r, err := c.RevertPeers(ctx)
	if err != nil {
		t.Fatalf("RevertPeers: %v", err)
	}
	if !cf.Decided(t, p) {
		t.Errorf("RevertPeers undid the user's decision about %s's keys (report %q)", p.Address, r.Actions)
	}
	if len(r.Warnings) == 0 {
		t.Errorf("RevertPeers: got no warning for the keys it kept, want one")
	}
}

func testPeersRunning(t *testing.T, c clients.Contacts, f Fixture, cf *ContactsFixture) {
	ctx := context.Background()
	if _, err := c.ImportPeers(ctx, cf.Peers[:1]); err != nil {
		t.Fatalf("ImportPeers: %v", err)
	}
	before := f.Snapshot(t)
	stop := f.Run(t)
	if _, err := c.ImportPeers(ctx, cf.Peers); !errors.Is(err, clients.ErrClientRunning) {
		t.Errorf("ImportPeers while running: got error %v, want ErrClientRunning", err)
	}
	if _, err := c.RevertPeers(ctx); !errors.Is(err, clients.ErrClientRunning) {
		t.Errorf("RevertPeers while running: got error %v, want ErrClientRunning", err)
	}
	if _, err := c.Contacts(ctx); err != nil {
		t.Errorf("Contacts while running: %v", err)
	}
	stop()
	same(t, "ImportPeers and RevertPeers while running", before, f.Snapshot(t))
	if r, err := c.RevertPeers(ctx); err != nil || !r.Changed() {
		t.Errorf("RevertPeers after the client stopped: got %q, %v; want actions", r.Actions, err)
	}
}
