package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migrations are applied in order, each once; migrations[i] brings the
// schema to version i+1. Append new ones; never edit an applied one.
var migrations = []string{
	// 1: the initial schema.
	`CREATE TABLE accounts (
		id          text PRIMARY KEY,
		handle      text UNIQUE,
		created     timestamptz NOT NULL,
		head        bigint NOT NULL,
		entries     bigint NOT NULL,
		entry_bytes bigint NOT NULL,
		blob_bytes  bigint NOT NULL DEFAULT 0
	);
	CREATE TABLE entries (
		account text NOT NULL REFERENCES accounts (id),
		seq     bigint NOT NULL,
		body    bytea NOT NULL,
		PRIMARY KEY (account, seq)
	);
	ALTER TABLE entries ALTER COLUMN body SET STORAGE EXTERNAL;
	CREATE TABLE blobs (
		account text NOT NULL REFERENCES accounts (id),
		key     text NOT NULL,
		data    bytea NOT NULL,
		PRIMARY KEY (account, key)
	);
	ALTER TABLE blobs ALTER COLUMN data SET STORAGE EXTERNAL;
	CREATE TABLE requests (
		account      text NOT NULL REFERENCES accounts (id),
		id           text NOT NULL,
		body         bytea NOT NULL,
		server_nonce bytea NOT NULL,
		created      timestamptz NOT NULL,
		expires      timestamptz NOT NULL,
		state        text NOT NULL,
		answer       bytea,
		PRIMARY KEY (account, id)
	);
	CREATE TABLE nonces (
		nonce   bytea PRIMARY KEY,
		expires timestamptz NOT NULL
	);
	CREATE INDEX nonces_expires ON nonces (expires);
	CREATE TABLE addresses (
		address text PRIMARY KEY,
		account text NOT NULL REFERENCES accounts (id)
	);`,
}

// migrateLock is the advisory lock key that serialises migrations between
// service instances starting at once.
const migrateLock = 0x656e64796d61696c // "endymail"

// migrate brings the schema in the connection's search path up to date.
func migrate(ctx context.Context, db interface {
	Begin(context.Context) (pgx.Tx, error)
}) error {
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrateLock)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS endymail_schema (version integer NOT NULL)")
		if err != nil {
			return err
		}
		var version int
		err = tx.QueryRow(ctx, "SELECT COALESCE(max(version), 0) FROM endymail_schema").Scan(&version)
		if err != nil {
			return err
		}
		if version > len(migrations) {
			return fmt.Errorf("database schema version %d is newer than this program's %d", version, len(migrations))
		}
		for i := version; i < len(migrations); i++ {
			if _, err := tx.Exec(ctx, migrations[i]); err != nil {
				return fmt.Errorf("migrate to schema version %d: %w", i+1, err)
			}
		}
		if _, err := tx.Exec(ctx, "DELETE FROM endymail_schema"); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO endymail_schema VALUES ($1)", len(migrations))
		return err
	})
}
