// Package clienttest is the conformance suite every mail-client
// configurator passes (STYLE.md §16). A client package calls [Run] from a
// test with a constructor that builds a fresh installation of the real client
// (a profile the real program made) and a [Fixture] describing it.
package clienttest

import (
	"bytes"
	"context"
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/endymail/endymail/clients"
)

// Fixture describes one fresh client installation to the suite.
type Fixture struct {
	// Material is applied by the suite; its address must belong to at least
	// one identity of the client.
	Material clients.Material
	// Snapshot returns the client's observable state: every file or record
	// the configurator may touch, by name. Files the configurator promises to
	// restore byte for byte are included as raw bytes; databases whose bytes
	// legitimately change on a delete are included as a dump of their rows.
	Snapshot func(t testing.TB) map[string][]byte
	// Run makes the client running (for real, or by holding its lock the
	// way the client does) until the returned function is called.
	Run func(t testing.TB) (stop func())
	// Corrupt damages the client's configuration so that Apply must fail
	// with ErrCorrupt.
	Corrupt func(t testing.TB)
	// Check verifies with the real client's own tools that m is in place.
	// Optional.
	Check func(t testing.TB, m clients.Material)
	// AnyAddress marks a client without per-address identities (a GnuPG
	// keyring): Apply configures any address, so the suite neither expects
	// an identity before Apply nor ErrNoIdentity for an unknown address.
	AnyAddress bool
	// Contacts is required when the configurator implements
	// clients.Contacts: the suite then checks the contacts, the import of
	// correspondents' keys and its revert.
	Contacts *ContactsFixture
}

// Run runs the conformance suite, with the Contacts part when the
// configurator implements clients.Contacts. newConfigurator must return a
// configurator over a fresh installation on every call.
func Run(t *testing.T, newConfigurator func(t *testing.T) (clients.Configurator, Fixture)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, c clients.Configurator, f Fixture)
	}{
		{"Identities", testIdentities},
		{"ApplyTwiceIsNoOp", testApplyTwice},
		{"RevertRestores", testRevert},
		{"RunningClient", testRunning},
		{"CorruptConfiguration", testCorrupt},
		{"UnknownAddress", testNoIdentity},
		{"InvalidMaterial", testInvalidMaterial},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := newConfigurator(t)
			tt.fn(t, c, f)
		})
	}
	runContacts(t, newConfigurator)
}

func testIdentities(t *testing.T, c clients.Configurator, f Fixture) {
	ctx := context.Background()
	if n := countIdentities(t, c, f.Material.Address, false); n == 0 && !f.AnyAddress {
		t.Fatalf("Identities: got no identity for %s, want at least one", f.Material.Address)
	}
	if n := countIdentities(t, c, f.Material.Address, true); n != 0 {
		t.Errorf("Identities before Apply: got %d enabled identities, want 0", n)
	}
	if _, err := c.Apply(ctx, f.Material); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if n := countIdentities(t, c, f.Material.Address, true); n == 0 {
		t.Errorf("Identities after Apply: got no enabled identity for %s", f.Material.Address)
	}
}

func countIdentities(t *testing.T, c clients.Configurator, address string, enabledOnly bool) int {
	t.Helper()
	ids, err := c.Identities(context.Background())
	if err != nil {
		t.Fatalf("Identities: %v", err)
	}
	n := 0
	for _, id := range ids {
		if strings.EqualFold(id.Address, address) && (id.Enabled || !enabledOnly) {
			n++
		}
	}
	return n
}

func testApplyTwice(t *testing.T, c clients.Configurator, f Fixture) {
	ctx := context.Background()
	r, err := c.Apply(ctx, f.Material)
	if err != nil {
		t.Fatalf("first Apply: %v", err)
	}
	if !r.Changed() {
		t.Fatalf("first Apply: report lists no actions, want some")
	}
	if f.Check != nil {
		f.Check(t, f.Material)
	}
	again(t, "second Apply", f, func() (clients.Report, error) { return c.Apply(ctx, f.Material) })
}

func testRevert(t *testing.T, c clients.Configurator, f Fixture) {
	ctx := context.Background()
	before := f.Snapshot(t)
	if _, err := c.Apply(ctx, f.Material); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	r, err := c.Revert(ctx, f.Material.Address)
	if err != nil {
		t.Fatalf("Revert: %v", err)
	}
	if !r.Changed() {
		t.Errorf("Revert: report lists no actions, want some")
	}
	same(t, "Apply then Revert", before, f.Snapshot(t))
	if n := countIdentities(t, c, f.Material.Address, true); n != 0 {
		t.Errorf("Identities after Revert: got %d enabled, want 0", n)
	}
	again(t, "second Revert", f, func() (clients.Report, error) { return c.Revert(ctx, f.Material.Address) })
}

func testRunning(t *testing.T, c clients.Configurator, f Fixture) {
	ctx := context.Background()
	before := f.Snapshot(t)
	stop := f.Run(t)
	_, err := c.Apply(ctx, f.Material)
	if !errors.Is(err, clients.ErrClientRunning) {
		t.Errorf("Apply while running: got error %v, want ErrClientRunning", err)
	}
	if r, err := c.Revert(ctx, f.Material.Address); err != nil || r.Changed() {
		t.Errorf("Revert of a never-configured address while running: got %v, actions %q; want a no-op", err, r.Actions)
	}
	stop()
	same(t, "Apply while running", before, f.Snapshot(t))
	if _, err := c.Apply(ctx, f.Material); err != nil {
		t.Fatalf("Apply after the client stopped: %v", err)
	}
	applied := f.Snapshot(t)
	stop = f.Run(t)
	_, err = c.Revert(ctx, f.Material.Address)
	if !errors.Is(err, clients.ErrClientRunning) {
		t.Errorf("Revert while running: got error %v, want ErrClientRunning", err)
	}
	stop()
	same(t, "Revert while running", applied, f.Snapshot(t))
}

func testCorrupt(t *testing.T, c clients.Configurator, f Fixture) {
	f.Corrupt(t)
	before := f.Snapshot(t)
	_, err := c.Apply(context.Background(), f.Material)
	if !errors.Is(err, clients.ErrCorrupt) {
		t.Errorf("Apply on corrupt configuration: got error %v, want ErrCorrupt", err)
	}
	same(t, "Apply on corrupt configuration", before, f.Snapshot(t))
}

func testNoIdentity(t *testing.T, c clients.Configurator, f Fixture) {
	if f.AnyAddress {
		t.Skip("the client configures any address (Fixture.AnyAddress)")
	}
	before := f.Snapshot(t)
	m := f.Material
	m.Address = "nobody-here@invalid.example"
	_, err := c.Apply(context.Background(), m)
	if !errors.Is(err, clients.ErrNoIdentity) {
		t.Errorf("Apply for an unknown address: got error %v, want ErrNoIdentity", err)
	}
	same(t, "Apply for an unknown address", before, f.Snapshot(t))
}

func testInvalidMaterial(t *testing.T, c clients.Configurator, f Fixture) {
	before := f.Snapshot(t)
	m := f.Material
	m.Prefer = "carrier-pigeon"
	_, err := c.Apply(context.Background(), m)
	if !errors.Is(err, clients.ErrCorrupt) {
		t.Errorf("Apply with invalid material: got error %v, want ErrCorrupt", err)
	}
	same(t, "Apply with invalid material", before, f.Snapshot(t))
}

// same fails t, naming every entry that differs, unless want and got hold
// the same entries with the same bytes.
// again runs op, which must find its work done: no error, no action
// reported, and nothing in the fixture's snapshot changed.
func again(t *testing.T, what string, f Fixture, op func() (clients.Report, error)) {
	t.Helper()
	want := f.Snapshot(t)
	r, err := op()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if r.Changed() {
		t.Errorf("%s: got actions %q, want none", what, r.Actions)
	}
	same(t, what, want, f.Snapshot(t))
}

func same(t *testing.T, what string, want, got map[string][]byte) {
	t.Helper()
	var diff []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			diff = append(diff, k+" (gone)")
		case !bytes.Equal(w, g):
			diff = append(diff, k+" (changed)")
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diff = append(diff, k+" (new)")
		}
	}
	if len(diff) > 0 {
		sort.Strings(diff)
		t.Errorf("%s: state differs: got %s, want no difference", what, strings.Join(diff, ", "))
	}
}
