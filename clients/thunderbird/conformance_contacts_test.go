//go:build linux

package thunderbird

import (
	"crypto/x509"
	"database/sql"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/clients/clienttest"
	"github.com/endymail/endymail/internal/interop"
)

// contactsFixture fills the real profile's address book (the one
// Thunderbird made on its first start) with correspondents in mixed case,
// twice, and decides about their keys the way the user does in
// Thunderbird: the OpenPGP key accepted as verified (Key Properties), the
// S/MIME certificate's trust edited (Certificate Manager).
func contactsFixture(t *testing.T, dir string, peers []clients.Peer) *clienttest.ContactsFixture {
	t.Helper()
	addCards(t, filepath.Join(dir, "abook.sqlite"), [][3]string{
		{"c1", "PrimaryEmail", "Carol@Example.NET"}, {"c2", "PrimaryEmail", "carol@example.net"},
		{"c3", "PrimaryEmail", "Dave <DAVE@example.net>"},
	})
	return &clienttest.ContactsFixture{
		Want:  []string{"carol@example.net", "dave@example.net"},
		Peers: peers,
		Verified: func(t testing.TB) []string {
			return strings.Fields(sqlite3(t, dir, "select fpr from acceptance_decision where decision = 'verified'"))
		},
		Decide: func(t testing.TB, p clients.Peer) {
			sqlite3(t, dir, "update acceptance_decision set decision = 'verified' where fpr = '"+peerFpr(t, p)+"'")
			tbNSS(t, nil, "certutil", "-M", "-d", "sql:"+dir, "-n", peerNick(p.Address, p.SMIME[0].Raw), "-t", "P,,")
		},
		Decided: func(t testing.TB, p clients.Peer) bool {
			d := strings.TrimSpace(sqlite3(t, dir, "select decision from acceptance_decision where fpr = '"+peerFpr(t, p)+"'"))
			trust := nssListing(t, dir)[peerNick(p.Address, p.SMIME[0].Raw)]
			return d == "verified" && trust == "P,,"
		},
	}
}

// contactPeers are two correspondents: Carol with both keys, Dave with an
// OpenPGP key only.
func contactPeers(t *testing.T) []clients.Peer {
	carol, dave := testMaterial(t, "carol@example.net"), testMaterial(t, "dave@example.net")
	return []clients.Peer{
		{Address: "carol@example.net", OpenPGP: carol.OpenPGP.Public, SMIME: []*x509.Certificate{carol.SMIME.Cert, carol.SMIME.CA}},
		{Address: "dave@example.net", OpenPGP: dave.OpenPGP.Public},
	}
}

func peerFpr(t testing.TB, p clients.Peer) string {
	t.Helper()
	blocks, err := splitKeyring("peer", p.OpenPGP)
	if err != nil || len(blocks) != 1 {
		t.Fatalf("peer key of %s: %v", p.Address, err)
	}
	return strings.ToLower(blocks[0].fingerprint)
}

// addCards adds (card, name, value) rows to an address book, making the
// table Thunderbird makes when the book is new.
func addCards(t *testing.T, path string, rows [][3]string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS properties (card TEXT, name TEXT, value TEXT)`); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if _, err := db.Exec(`insert into properties values (?, ?, ?)`, r[0], r[1], r[2]); err != nil {
			t.Fatal(err)
		}
	}
}

// sqlite3 runs one statement on the profile's openpgp.sqlite with the
// sqlite3 program.
func sqlite3(t testing.TB, dir, stmt string) string {
	t.Helper()
	bin := interop.Need(t, "sqlite3", "sqlite3")
	out, err := exec.Command(bin, filepath.Join(dir, acceptanceDB), stmt).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3 %q: %v\n%s", stmt, err, out)
	}
	return string(out)
}

// nssListing is certutil -L's table: nickname → trust flags.
func nssListing(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(tbNSS(t, nil, "certutil", "-L", "-d", "sql:"+dir), "\n") {
		line = strings.TrimRight(line, " ")
		i := strings.LastIndexByte(line, ' ')
		if i > 0 && strings.Count(line[i+1:], ",") == 2 && strings.TrimSpace(line[:i]) != "" {
			out[strings.TrimSpace(line[:i])] = line[i+1:]
		}
	}
	return out
}
