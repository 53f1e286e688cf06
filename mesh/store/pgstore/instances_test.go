package pgstore

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/endymail/endymail/mesh/store"
	"github.com/endymail/endymail/mesh/store/pgstore/pgtest"
	"github.com/endymail/endymail/mesh/store/storetest"
)

// TestInstances runs several service instances (each its own Store and pool,
// all opened at once, so their migrations race) against one database and
// appends through all of them concurrently (storetest.AppendRace).
func TestInstances(t *testing.T) {
	dsn := pgtest.Schema(t, pgtest.Start(t), "instances")
	const instances = 4
	stores := make([]*Store, instances)
	errs := make([]error, instances)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: Open: %v", i, err)
		}
		defer stores[i].Close()
	}
	const id = "MACC-INST"
	err := stores[0].CreateAccount(t.Context(), store.Account{ID: id, Created: time.Now()}, [][]byte{[]byte("genesis")})
	if err != nil {
		t.Fatal(err)
	}
	all := make([]store.Store, instances)
	for i, s := range stores {
		all[i] = s
	}
	storetest.AppendRace(t, id, 40, all...)
}

// TestSchemaTooNew refuses a database migrated by a newer program.
func TestSchemaTooNew(t *testing.T) {
	dsn := pgtest.Schema(t, pgtest.Start(t), "too_new")
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), "UPDATE endymail_schema SET version = 99"); err != nil {
		t.Fatal(err)
	}
	_, err = Open(t.Context(), dsn)
	if err == nil || !strings.Contains(err.Error(), "version 99 is newer") {
		t.Errorf("Open of a newer schema: got error %v, want one naming version 99", err)
	}
}
