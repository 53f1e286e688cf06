// Package pgtest gives tests a real PostgreSQL server.
//
// [Start] returns the DSN in ENDYMAIL_TEST_POSTGRES when it is set. Otherwise
// it creates a throwaway cluster with the initdb and pg_ctl of Debian's
// postgresql package (/usr/lib/postgresql/*/bin) in a temporary directory,
// listening only on a unix socket there, and stops and removes it when the
// test ends. As root it runs the server as the postgres user (or nobody),
// since PostgreSQL refuses to run as root. Without the binaries the test is
// skipped through interop.Missing, or fails under ENDYMAIL_REQUIRE_INTEROP=1.
//
// [Schema] gives each test its own schema in a shared server.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/endymail/endymail/internal/interop"
)

// EnvDSN names the environment variable that points tests at an existing
// server instead of a throwaway cluster.
const EnvDSN = "ENDYMAIL_TEST_POSTGRES"

// Start returns the DSN of a PostgreSQL server for tb (see the package doc).
func Start(tb testing.TB) string {
	tb.Helper()
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		return dsn
	}
	bin := binDir()
	if bin == "" {
		interop.Missing(tb, "initdb not found in /usr/lib/postgresql/*/bin", "postgresql")
	}
	dir, err := os.MkdirTemp("", "endymail-pg-") // short: unix socket paths are limited to ~100 bytes
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	run := runner(tb, dir)
	data := filepath.Join(dir, "data")
	run(filepath.Join(bin, "initdb"), "-D", data, "-U", "endymail", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	conf := fmt.Sprintf("\nlisten_addresses = ''\nunix_socket_directories = '%s'\nmax_connections = 200\n", dir)
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(conf)
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		tb.Fatalf("configure throwaway cluster: %v", err)
	}
	pgctl := filepath.Join(bin, "pg_ctl")
	run(pgctl, "-D", data, "-l", filepath.Join(dir, "server.log"), "-w", "-t", "60", "start")
	tb.Cleanup(func() { run(pgctl, "-D", data, "-m", "immediate", "-w", "stop") })
	return fmt.Sprintf("host=%s port=5432 user=endymail dbname=postgres sslmode=disable", dir)
}

// binDir returns the newest /usr/lib/postgresql/N/bin that has initdb, or "".
func binDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	version := func(p string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
		return n
	}
	slices.SortFunc(dirs, func(a, b string) int { return version(a) - version(b) })
	if len(dirs) == 0 {
		return ""
	}
	return filepath.Dir(dirs[len(dirs)-1])
}

// runner returns a function that runs a PostgreSQL program, as an
// unprivileged user that owns dir when the test runs as root, failing tb with
// the program's output (and the server log) on error.
func runner(tb testing.TB, dir string) func(prog string, args ...string) {
	tb.Helper()
	var prefix []string
	if os.Geteuid() == 0 {
		name := unprivileged(tb)
		prefix = []string{"runuser", "-u", name, "--"}
		u, err := user.Lookup(name)
		if err != nil {
			tb.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			tb.Fatalf("hand the throwaway cluster to %s: %v", name, err)
		}
	}
	return func(prog string, args ...string) {
		tb.Helper()
		argv := append(slices.Clone(prefix), prog)
		argv = append(argv, args...)
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if err != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			tb.Fatalf("%s: %v\n%s\nserver log:\n%s", strings.Join(argv, " "), err, out, log)
		}
	}
}

// unprivileged returns the user that runs the throwaway cluster under root.
func unprivileged(tb testing.TB) string {
	for _, name := range []string{"postgres", "nobody"} {
		if _, err := user.Lookup(name); err == nil {
			return name
		}
	}
	tb.Fatal("running as root, and neither user postgres nor nobody exists to run PostgreSQL")
	return ""
}

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Schema creates schema name (if it does not exist yet) in the server at dsn
// and returns a DSN whose connections use it as their search path. Creating
// the same name again returns the same schema, so a test can reopen a store.
func Schema(tb testing.TB, dsn, name string) string {
	tb.Helper()
	if !schemaName.MatchString(name) {
		tb.Fatalf("schema name %q: want lower-case letters, digits and _", name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect to test server: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+name); err != nil {
		tb.Fatalf("create schema %s: %v", name, err)
	}
	return WithParam(dsn, "search_path", name)
}

// WithParam returns dsn (URL or key=value form) with one more parameter.
func WithParam(dsn, key, value string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		return dsn + sep + url.QueryEscape(key) + "=" + url.QueryEscape(value)
	}
	return fmt.Sprintf("%s %s='%s'", dsn, key, strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(value))
}
