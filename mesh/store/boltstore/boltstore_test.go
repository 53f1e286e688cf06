package boltstore

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/endymail/endymail/mesh/store"
	"github.com/endymail/endymail/mesh/store/storetest"
)

// open opens the store file in dir, failing t on error.
func open(t *testing.T, dir string, lim store.Limits) store.Store {
	t.Helper()
	s, err := Open(filepath.Join(dir, "mesh.db"), Options{Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, open)
}

func TestInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mesh.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	_, err = Open(path, Options{Timeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("second Open: got error %v, want %v", err, ErrInUse)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second Open took %v, want about its 100ms timeout", d)
	}
}

// benchOpen opens a fresh store file for a benchmark.
func benchOpen(b *testing.B) store.Store {
	s, err := Open(filepath.Join(b.TempDir(), "mesh.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkAppend(b *testing.B)  { storetest.BenchAppend(b, benchOpen) }
func BenchmarkEntries(b *testing.B) { storetest.BenchEntries(b, benchOpen) }
