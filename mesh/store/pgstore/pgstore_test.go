package pgstore

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/endymail/endymail/mesh/store"
	"github.com/endymail/endymail/mesh/store/pgstore/pgtest"
	"github.com/endymail/endymail/mesh/store/storetest"
)

// opener returns a storetest.Opener that maps each dir to its own schema in
// the server at dsn.
func opener(dsn string) storetest.Opener {
	return func(t *testing.T, dir string, lim store.Limits) store.Store {
		t.Helper()
		schema := fmt.Sprintf("t_%x", sha256.Sum256([]byte(dir)))[:18]
		s, err := OpenOptions(t.Context(), pgtest.Schema(t, dsn, schema), Options{Limits: lim})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, opener(pgtest.Start(t)))
}

// benchOpener returns a storetest.BenchOpener that gives each benchmark its
// own schema in one throwaway server.
func benchOpener(b *testing.B) storetest.BenchOpener {
	dsn := pgtest.Start(b)
	return func(b *testing.B) store.Store {
		schema := fmt.Sprintf("b_%x", sha256.Sum256([]byte(b.Name()+time.Now().String())))[:18]
		s, err := Open(b.Context(), pgtest.Schema(b, dsn, schema))
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
}

func BenchmarkAppend(b *testing.B)  { storetest.BenchAppend(b, benchOpener(b)) }
func BenchmarkEntries(b *testing.B) { storetest.BenchEntries(b, benchOpener(b)) }
