package thunderbird

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/clients/thunderbird/prefs"
	"github.com/endymail/endymail/internal/atomicfile"
)

var _ clients.Contacts = (*Configurator)(nil)

// Thunderbird's local address books (SQLiteDirectory, comm-central
// mailnews/addrbook/modules/SQLiteDirectory.sys.mjs), read from profiles
// Thunderbird 153 made:
//
//	CREATE TABLE properties (card TEXT, name TEXT, value TEXT);
//
// One row per card property: PrimaryEmail and SecondEmail hold addresses,
// _vCard the whole card (EMAIL lines). abook.sqlite is the personal address
// book, history.sqlite the collected addresses; other books are named by
// the prefs ldap_2.servers.<name>.filename.
var defaultBooks = []string{"abook.sqlite", "history.sqlite"}

// Contacts lists the addresses in every profile's local address books
// (including the collected addresses), lower case, sorted, each once. It
// never writes a book and never takes a lock on one that could stall
// Thunderbird: a closed profile's books are opened read-only; while
// Thunderbird runs, it holds its books locked, so they are read from a
// private copy of the book and its write-ahead log (SQLite's WAL frames
// carry checksums: a frame Thunderbird is still writing is ignored, and
// the next run sees it).
func (c *Configurator) Contacts(ctx context.Context) ([]string, error) {
	dirs, err := c.profileDirs()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, dir := range dirs {
		books, err := addressBooks(dir)
		if err != nil {
			return nil, err
		}
		running := checkNotRunning(dir) != nil
		for _, book := range books {
			addrs, err := readBook(ctx, book, running)
			if err != nil {
				return nil, err
			}
			for _, a := range addrs {
				if !seen[a] {
					seen[a] = true
					out = append(out, a)
				}
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// addressBooks returns the profile's SQLite address books that exist:
// abook.sqlite, history.sqlite and every ldap_2.servers.*.filename ending
// in .sqlite.
func addressBooks(dir string) ([]string, error) {
	pf, err := readPrefs(dir)
	if err != nil {
		return nil, err
	}
	names := slices.Clone(defaultBooks)
	names = append(names, bookFiles(pf)...)
	var out []string
	for _, n := range names {
		p := filepath.Join(dir, n)
		if slices.Contains(out, p) {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// bookFiles lists the SQLite file names the prefs give for address books.
// A name with a path separator (or "..") is not inside the profile and is
// ignored.
func bookFiles(pf *prefs.File) []string {
	var out []string
	for _, p := range pf.All() {
		name := p.Name
		if !strings.HasPrefix(name, "ldap_2.servers.") || !strings.HasSuffix(name, ".filename") {
			continue
		}
		f := pf.String(name)
		if !strings.HasSuffix(f, ".sqlite") || strings.ContainsAny(f, `/\`) || f == ".." {
			continue
		}
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// readBook returns the addresses on the cards of one address book; with
// snapshot, from a private copy of it.
func readBook(ctx context.Context, path string, snapshot bool) ([]string, error) {
	q := "?mode=ro"
	if snapshot {
		tmp, err := os.MkdirTemp("", "endymail-book-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		for _, suffix := range []string{"", "-wal"} {
			err := atomicfile.Copy(path+suffix, filepath.Join(tmp, "book.sqlite"+suffix))
			if err != nil && (suffix == "" || !errors.Is(err, os.ErrNotExist)) {
				return nil, fmt.Errorf("copy address book %s: %w", path, err)
			}
		}
		path, q = filepath.Join(tmp, "book.sqlite"), ""
	}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+q)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return bookAddresses(ctx, db, path)
}

// bookAddresses reads PrimaryEmail, SecondEmail and the vCards' EMAIL lines.
func bookAddresses(ctx context.Context, db *sql.DB, path string) ([]string, error) {
	rows, err := db.QueryContext(ctx, `select name, value from properties where name in ('PrimaryEmail', 'SecondEmail', '_vCard')`)
	if err != nil {
		return nil, fmt.Errorf("address book %s: %v: %w", path, err, clients.ErrCorrupt)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		var value sql.NullString
		if err := rows.Scan(&name, &value); err != nil {
			return nil, fmt.Errorf("address book %s: %w", path, err)
		}
		if name == "_vCard" {
			out = append(out, vCardEmails(value.String)...)
		} else if a, ok := cleanAddress(value.String); ok {
			out = append(out, a)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("address book %s: %w", path, err)
	}
	return out, nil
}

// vCardEmails returns the EMAIL values of a vCard (RFC 6350 §6.4.2),
// unfolding continuation lines first.
func vCardEmails(card string) []string {
	card = strings.NewReplacer("\r\n ", "", "\r\n\t", "", "\n ", "", "\n\t", "").Replace(card)
	var out []string
	sc := bufio.NewScanner(strings.NewReader(card))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		prop, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(prop, ";")
		if i := strings.LastIndexByte(name, '.'); i >= 0 { // group.EMAIL
			name = name[i+1:]
		}
		if !strings.EqualFold(name, "EMAIL") {
			continue
		}
		if a, ok := cleanAddress(value); ok {
			out = append(out, a)
		}
	}
	return out
}

// cleanAddress returns the lower-cased bare address, or false when s is
// not one mail address.
func cleanAddress(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address == "" || strings.LastIndexByte(a.Address, '@') <= 0 {
		return "", false
	}
	return strings.ToLower(a.Address), true
}
