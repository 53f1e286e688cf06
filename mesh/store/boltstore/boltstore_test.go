package boltstore

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

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

func TestFormatTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mesh.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put([]byte("version"), binary.BigEndian.AppendUint64(nil, formatVersion+1))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "newer than this program") {
		t.Errorf("Open of a newer format: got error %v, want one saying it is newer", err)
	}
}

func TestNotAStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mesh.db")
	if err := os.WriteFile(path, []byte("not a bbolt file, but long enough to hold two meta pages? no"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(path, Options{}); err == nil {
		s.Close()
		t.Error("Open of a file that is not a store: got no error")
	}
}
