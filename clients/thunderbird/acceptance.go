package thunderbird

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go

	"github.com/endymail/endymail/clients"
)

// Thunderbird's openpgp.sqlite (chrome://openpgp/content/modules/sqliteDb.sys.mjs),
// read from a profile Thunderbird 153 made:
//
//	CREATE TABLE acceptance_decision (fpr text not null, decision text not null, unique(fpr));
//	CREATE TABLE acceptance_email (fpr text not null, email text not null, unique(fpr, email));
//
// An own key needs the row (lower-case fingerprint, 'personal').

const decisionPersonal = "personal"

// openAcceptance opens an openpgp.sqlite (a staged copy) and checks that it
// has the acceptance_decision table.
func openAcceptance(ctx context.Context, path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_pragma=busy_timeout(2000)")
	if err != nil {
		return nil, err
	}
	var n int
	err = db.QueryRowContext(ctx, `select count(*) from sqlite_master where type='table' and name='acceptance_decision'`).Scan(&n)
	if err == nil && n == 0 {
		err = errors.New("no acceptance_decision table")
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %v: %w", acceptanceDB, err, clients.ErrCorrupt)
	}
	return db, nil
}

// decision returns the acceptance decision for fpr ("" when none).
func decision(ctx context.Context, db *sql.DB, fpr string) (string, error) {
	var d string
	err := db.QueryRowContext(ctx, `select decision from acceptance_decision where fpr = ?`, strings.ToLower(fpr)).Scan(&d)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", acceptanceDB, err)
	}
	return d, nil
}

// setDecision writes fpr's decision, or deletes its row when d is "".
func setDecision(ctx context.Context, db *sql.DB, fpr, d string) error {
	fpr = strings.ToLower(fpr)
	var err error
	if d == "" {
		_, err = db.ExecContext(ctx, `delete from acceptance_decision where fpr = ?`, fpr)
	} else {
		_, err = db.ExecContext(ctx, `insert or replace into acceptance_decision (fpr, decision) values (?, ?)`, fpr, d)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", acceptanceDB, err)
	}
	return nil
}
