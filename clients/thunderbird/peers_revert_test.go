package thunderbird

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/endymail/endymail/clients"
)

// withoutSubkeys returns the transferable public key without its subkeys:
// the same fingerprint with other bytes, as an older copy of a peer's key
// the user imported by hand would be.
func withoutSubkeys(t *testing.T, pub []byte) []byte {
	t.Helper()
	e, err := openpgp.ReadEntity(packet.NewReader(bytes.NewReader(pub)))
	if err != nil {
		t.Fatal(err)
	}
	e.Subkeys = nil
	var b bytes.Buffer
	if err := e.Serialize(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestRevertPeersOpenPGP: what the user had comes back byte for byte (a
// key that was there before, with its own bytes; a decision the user made
// before the import), after a restart (a new Configurator reads the record
// from the profile), and a second revert changes nothing.
func TestRevertPeersOpenPGP(t *testing.T) {
	ctx := context.Background()
	m := testMaterial(t, "bob@example.org")
	fpr := strings.ToLower(m.OpenPGP.Fingerprint)
	peer := []clients.Peer{{Address: "bob@example.org", OpenPGP: m.OpenPGP.Public}}
	old := withoutSubkeys(t, m.OpenPGP.Public)
	for _, tc := range []struct {
		name string
		ring []byte // pubring.gpg before the import; nil: no file
		rows [][3]string
	}{
		{"nothing before", nil, nil},
		{"older copy of the key", old, nil},
		{"key rejected by the user", nil, [][3]string{{fpr, "rejected", "bob@example.org"}}},
		{"other keys", append(bytes.Clone(old), testMaterial(t, "eve@example.net").OpenPGP.Public...), [][3]string{{strings.Repeat("cd", 20), "unverified", "eve@example.net"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := acceptanceProfile(t, tc.rows)
			if tc.ring != nil {
				os.WriteFile(filepath.Join(dir, pubringFile), tc.ring, 0o600)
			}
			before := decisions(t, dir)
			if r, err := New(Options{Profiles: []string{dir}}).ImportPeers(ctx, peer); err != nil || !r.Changed() {
				t.Fatalf("ImportPeers: got %+v, %v", r, err)
			}
			c := New(Options{Profiles: []string{dir}})
			r, err := c.RevertPeers(ctx)
			if err != nil || !r.Changed() || len(r.Warnings) != 0 {
				t.Fatalf("RevertPeers: got %+v, %v; want actions, no warning", r, err)
			}
			ring, err := os.ReadFile(filepath.Join(dir, pubringFile))
			if tc.ring == nil && err == nil || tc.ring != nil && !bytes.Equal(ring, tc.ring) {
				t.Errorf("pubring.gpg after revert: got %d bytes (%v), want %d bytes as before", len(ring), err, len(tc.ring))
			}
			if got := decisions(t, dir); !maps.Equal(got, before) {
				t.Errorf("acceptance after revert: got %v, want %v", got, before)
			}
			if r, err := c.RevertPeers(ctx); err != nil || r.Changed() {
				t.Errorf("second RevertPeers: got %+v, %v; want nothing", r, err)
			}
		})
	}
}

// TestRevertPeersKeepsUserChanges: a key the user changed after the import
// (another copy imported over ours) stays, with a warning; so does an
// acceptance the user changed, and its key.
func TestRevertPeersKeepsUserChanges(t *testing.T) {
	ctx := context.Background()
	m := testMaterial(t, "bob@example.org")
	fpr := strings.ToLower(m.OpenPGP.Fingerprint)
	peer := []clients.Peer{{Address: "bob@example.org", OpenPGP: m.OpenPGP.Public}}
	old := withoutSubkeys(t, m.OpenPGP.Public)
	for name, change := range map[string]func(dir string){
		"key replaced": func(dir string) { os.WriteFile(filepath.Join(dir, pubringFile), old, 0o600) },
		"key verified": func(dir string) { setRow(t, dir, fpr, "verified") },
		"key rejected": func(dir string) { setRow(t, dir, fpr, "rejected") },
	} {
		t.Run(name, func(t *testing.T) {
			dir := acceptanceProfile(t, nil)
			c := New(Options{Profiles: []string{dir}})
			if _, err := c.ImportPeers(ctx, peer); err != nil {
				t.Fatal(err)
			}
			change(dir)
			ring, _ := os.ReadFile(filepath.Join(dir, pubringFile))
			want := decisions(t, dir)
			r, err := c.RevertPeers(ctx)
			if err != nil || len(r.Warnings) != 1 {
				t.Fatalf("RevertPeers: got %+v, %v; want one warning", r, err)
			}
			if got, _ := os.ReadFile(filepath.Join(dir, pubringFile)); !bytes.Equal(got, ring) {
				t.Errorf("pubring.gpg: got %d bytes, want the %d bytes the user left", len(got), len(ring))
			}
			if got := decisions(t, dir); name != "key replaced" && !maps.Equal(got, want) {
				t.Errorf("acceptance: got %v, want the user's %v", got, want)
			}
		})
	}
}

func setRow(t *testing.T, dir, fpr, d string) {
	t.Helper()
	db, err := openAcceptance(context.Background(), filepath.Join(dir, acceptanceDB))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := setDecision(context.Background(), db, fpr, d); err != nil {
		t.Fatal(err)
	}
}

// TestRevertPeersStateRecord: the record ImportPeers leaves in the
// profile's state says what it wrote, and RevertPeers drops it.
func TestRevertPeersStateRecord(t *testing.T) {
	ctx := context.Background()
	m := testMaterial(t, "bob@example.org")
	dir := acceptanceProfile(t, nil)
	c := New(Options{Profiles: []string{dir}})
	if _, err := c.ImportPeers(ctx, []clients.Peer{{Address: "bob@example.org", OpenPGP: m.OpenPGP.Public}}); err != nil {
		t.Fatal(err)
	}
	st, err := loadState(dir)
	if err != nil || st.Peers == nil || len(st.Peers.OpenPGP) != 1 {
		t.Fatalf("state after import: %+v, %v; want one OpenPGP record", st, err)
	}
	rec := st.Peers.OpenPGP[0]
	if rec.Fingerprint != m.OpenPGP.Fingerprint || !rec.Accepted || !rec.Email || rec.Decision != decisionUnverified || rec.Prior != nil || rec.Wrote != digest(m.OpenPGP.Public) {
		t.Errorf("record: got %+v", rec)
	}
	if _, err := c.RevertPeers(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := loadState(dir); err != nil || st.Peers != nil {
		t.Errorf("state after revert: %+v, %v; want no peer record", st.Peers, err)
	}
}

// TestRevertPeersKeyDeletedByUser: the user deleted the imported key (and
// Thunderbird its decision): the revert has nothing to undo and says
// nothing about it.
func TestRevertPeersKeyDeletedByUser(t *testing.T) {
	ctx := context.Background()
	m := testMaterial(t, "bob@example.org")
	dir := acceptanceProfile(t, nil)
	c := New(Options{Profiles: []string{dir}})
	if _, err := c.ImportPeers(ctx, []clients.Peer{{Address: "bob@example.org", OpenPGP: m.OpenPGP.Public}}); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, pubringFile))
	setRow(t, dir, m.OpenPGP.Fingerprint, "")
	r, err := c.RevertPeers(ctx)
	if err != nil || len(r.Warnings) != 0 || fileExists(filepath.Join(dir, pubringFile)) {
		t.Errorf("RevertPeers: got %+v, %v; want no warning and no pubring.gpg", r, err)
	}
	if got := emailRows(t, dir); got != 0 {
		t.Errorf("acceptance_email after revert: got %d rows, want the one endymail added gone", got)
	}
}

func emailRows(t *testing.T, dir string) int {
	t.Helper()
	db, err := openAcceptance(context.Background(), filepath.Join(dir, acceptanceDB))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`select count(*) from acceptance_email`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
