package thunderbird

import (
	"bytes"
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/endymail/endymail/clients"
)

// writeBook makes an address book with Thunderbird's schema
// (SQLiteDirectory.sys.mjs) and the given (card, name, value) rows.
func writeBook(t *testing.T, path string, rows [][3]string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE properties (card TEXT, name TEXT, value TEXT)`); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if _, err := db.Exec(`insert into properties values (?, ?, ?)`, r[0], r[1], r[2]); err != nil {
			t.Fatal(err)
		}
	}
}

const testVCard = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Dora\r\nEMAIL;PREF=1:dora@example.com\r\n" +
	"item1.EMAIL;TYPE=work:Dora Work <dora@work.example>\r\nEMAIL:not an address\r\n" +
	"NOTE:EMAIL:x@y.z\r\nEMAIL:fol\r\n ded@example.com\r\nEND:VCARD\r\n"

func TestContactsFromBooks(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, prefsFile), []byte(`user_pref("ldap_2.servers.work.filename", "abook-1.sqlite");
user_pref("ldap_2.servers.evil.filename", "../outside.sqlite");
user_pref("ldap_2.servers.remote.filename", "ldap.mab");
`), 0o600)
	writeBook(t, filepath.Join(dir, "abook.sqlite"), [][3]string{
		{"c1", "PrimaryEmail", "Bob@Example.org"}, {"c1", "SecondEmail", "bob@home.example"},
		{"c2", "_vCard", testVCard}, {"c3", "PrimaryEmail", ""}, {"c3", "DisplayName", "x@display.example"},
	})
	writeBook(t, filepath.Join(dir, "history.sqlite"), [][3]string{{"h1", "PrimaryEmail", "bob@example.org"}, {"h2", "PrimaryEmail", "eve@example.net"}})
	writeBook(t, filepath.Join(dir, "abook-1.sqlite"), [][3]string{{"w1", "PrimaryEmail", "fay@example.com"}})
	writeBook(t, filepath.Join(filepath.Dir(dir), "outside.sqlite"), [][3]string{{"o1", "PrimaryEmail", "outside@example.com"}})

	got, err := New(Options{Profiles: []string{dir}}).Contacts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"bob@example.org", "bob@home.example", "dora@example.com", "dora@work.example", "eve@example.net", "fay@example.com", "folded@example.com"}
	if !slices.Equal(got, want) {
		t.Errorf("Contacts: got %v, want %v", got, want)
	}
}

func TestContactsCorruptBook(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "abook.sqlite"), []byte("not a database, not at all, just text"), 0o600)
	_, err := New(Options{Profiles: []string{dir}}).Contacts(context.Background())
	if !errors.Is(err, clients.ErrCorrupt) {
		t.Errorf("Contacts on a damaged book: got %v, want ErrCorrupt", err)
	}
}

func TestCheckPeersRefuses(t *testing.T) {
	m := testMaterial(t, "bob@example.org")
	other := testMaterial(t, "mallory@example.org")
	for name, p := range map[string]clients.Peer{
		"secret key":              {Address: "bob@example.org", OpenPGP: m.OpenPGP.Secret},
		"key for another":         {Address: "bob@example.org", OpenPGP: other.OpenPGP.Public},
		"two keys":                {Address: "bob@example.org", OpenPGP: append(append([]byte{}, m.OpenPGP.Public...), m.OpenPGP.Public...)},
		"garbage key":             {Address: "bob@example.org", OpenPGP: []byte{0x99, 0x01}},
		"CA as the leaf":          {Address: "bob@example.org", SMIME: []*x509.Certificate{m.SMIME.CA}},
		"certificate for another": {Address: "bob@example.org", SMIME: []*x509.Certificate{other.SMIME.Cert}},
		"no address":              {Address: "bob", OpenPGP: m.OpenPGP.Public},
	} {
		if _, err := checkPeers([]clients.Peer{p}); !errors.Is(err, clients.ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", name, err)
		}
	}
	got, err := checkPeers([]clients.Peer{{Address: "Bob@Example.org", OpenPGP: m.OpenPGP.Public, SMIME: []*x509.Certificate{m.SMIME.Cert, m.SMIME.CA}}, {Address: "empty@example.org"}})
	if err != nil || len(got) != 1 || got[0].address != "bob@example.org" || got[0].pgp.fingerprint != m.OpenPGP.Fingerprint || got[0].leaf != m.SMIME.Cert {
		t.Errorf("checkPeers on good keys: got %+v, %v", got, err)
	}
}

func FuzzVCardEmails(f *testing.F) {
	f.Add(testVCard)
	f.Add("EMAIL:a@b\n")
	f.Fuzz(func(t *testing.T, card string) {
		for _, a := range vCardEmails(card) {
			if again, ok := cleanAddress(a); !ok || again != a {
				t.Errorf("vCardEmails gave %q, which is not a clean address", a)
			}
		}
	})
}

// acceptanceProfile makes a profile folder with Thunderbird's openpgp.sqlite
// schema and the given decisions (fpr, decision, email).
func acceptanceProfile(t *testing.T, rows [][3]string) string {
	t.Helper()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, acceptanceDB))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE acceptance_decision (fpr text not null, decision text not null, unique(fpr))`,
		`CREATE TABLE acceptance_email (fpr text not null, email text not null, unique(fpr, email))`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range rows {
		db.Exec(`insert into acceptance_decision values (?, ?)`, r[0], r[1])
		db.Exec(`insert into acceptance_email values (?, ?)`, r[0], r[2])
	}
	return dir
}

func decisions(t *testing.T, dir string) map[string]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, acceptanceDB)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`select d.fpr, d.decision, coalesce(group_concat(e.email), '') from acceptance_decision d left join acceptance_email e on e.fpr = d.fpr group by d.fpr`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var f, d, e string
		rows.Scan(&f, &d, &e)
		out[f] = d + " " + e
	}
	return out
}

func TestImportPeersOpenPGPAcceptance(t *testing.T) {
	ctx := context.Background()
	m := testMaterial(t, "bob@example.org")
	fpr := strings.ToLower(m.OpenPGP.Fingerprint)
	peer := []clients.Peer{{Address: "bob@example.org", OpenPGP: m.OpenPGP.Public}}

	dir := acceptanceProfile(t, nil)
	c := New(Options{Profiles: []string{dir}})
	r, err := c.ImportPeers(ctx, peer)
	if err != nil || len(r.Actions) != 2 {
		t.Fatalf("ImportPeers: got %+v, %v; want 2 actions", r, err)
	}
	if got := decisions(t, dir); got[fpr] != "unverified bob@example.org" || len(got) != 1 {
		t.Errorf("acceptance after import: got %v, want %s unverified for bob@example.org", got, fpr)
	}
	ring, _ := os.ReadFile(filepath.Join(dir, pubringFile))
	if !bytes.Equal(ring, m.OpenPGP.Public) {
		t.Errorf("pubring.gpg: got %d bytes, want the peer's key (%d bytes)", len(ring), len(m.OpenPGP.Public))
	}
	if r, err := c.ImportPeers(ctx, peer); err != nil || r.Changed() {
		t.Errorf("second ImportPeers: got %+v, %v; want nothing written", r, err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, pubringFile)); !bytes.Equal(got, ring) {
		t.Error("the second import changed pubring.gpg (a duplicate key?)")
	}

	// The user's decisions stand: a rejected key stays rejected, and a key
	// the user accepted for the address keeps ours undecided.
	for _, tc := range []struct {
		rows [][3]string
		want map[string]string
	}{
		{[][3]string{{fpr, "rejected", "bob@example.org"}}, map[string]string{fpr: "rejected bob@example.org"}},
		{[][3]string{{strings.Repeat("ab", 20), "verified", "bob@example.org"}}, map[string]string{strings.Repeat("ab", 20): "verified bob@example.org"}},
	} {
		dir := acceptanceProfile(t, tc.rows)
		if _, err := New(Options{Profiles: []string{dir}}).ImportPeers(ctx, peer); err != nil {
			t.Fatal(err)
		}
		if got := decisions(t, dir); !maps.Equal(got, tc.want) {
			t.Errorf("with the user's decision %v: got %v", tc.rows, got)
		}
	}
}

func TestCertBlock(t *testing.T) {
	src, err := os.ReadFile("testdata/certutil-email.txt")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(src), "Certificate:\n")
	fpr, trust := certBlock(blocks[len(blocks)-1])
	const want = "4B:54:C3:4D:4D:5E:E5:94:D6:8E:FE:9D:82:72:0E:88:D3:7B:11:0C:75:70:03:47:03:E6:87:50:8D:39:5D:0E"
	if fpr != want || trust != ",C," {
		t.Errorf("certBlock: got %q, %q; want %q, %q", fpr, trust, want, ",C,")
	}
	if got := colonHex([]byte{0x4b, 0x05}); got != "4B:05" {
		t.Errorf("colonHex: got %q, want 4B:05", got)
	}
}

// FuzzCertBlock: whatever certutil prints, certBlock returns trust flags
// in certutil -t's form: three fields of NSS's letters.
func FuzzCertBlock(f *testing.F) {
	src, err := os.ReadFile("testdata/certutil-email.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range strings.Split(string(src), "Certificate:\n") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, block string) {
		_, trust := certBlock(block)
		if strings.Count(trust, ",") != 2 || strings.Trim(trust, ",cpCTPuw") != "" {
			t.Fatalf("certBlock: trust %q is not in certutil -t form", trust)
		}
	})
}
