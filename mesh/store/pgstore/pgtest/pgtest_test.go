package pgtest

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestStart(t *testing.T) {
	dsn := Schema(t, Start(t), "pgtest_schema")
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var path string
	if err := conn.QueryRow(t.Context(), "SHOW search_path").Scan(&path); err != nil {
		t.Fatal(err)
	}
	if path != "pgtest_schema" {
		t.Errorf("search_path: got %q, want %q", path, "pgtest_schema")
	}
}

func TestWithParam(t *testing.T) {
	for _, c := range []struct{ dsn, want string }{
		{"host=/tmp user=x", "host=/tmp user=x search_path='a\\'b'"},
		{"postgres://u@h/db", "postgres://u@h/db?search_path=a%27b"},
		{"postgres://u@h/db?sslmode=disable", "postgres://u@h/db?sslmode=disable&search_path=a%27b"},
	} {
		if got := WithParam(c.dsn, "search_path", "a'b"); got != c.want {
			t.Errorf("WithParam(%q): got %q, want %q", c.dsn, got, c.want)
		}
	}
}
