package storetest

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/endymail/endymail/mesh/store"
)

// BenchOpener opens a fresh, empty store for one benchmark.
type BenchOpener func(b *testing.B) store.Store

// benchSizes are the entry sizes the benchmarks use.
var benchSizes = []int{1 << 10, 64 << 10}

// BenchAppend measures Append, serially and from 8 goroutines that each
// append to their own account, beside a baseline that appends the same bytes
// to a plain file in b.TempDir() and fsyncs it (one file per goroutine).
// Compare each store/... figure with the baseline/... figure of the same run.
func BenchAppend(b *testing.B, open BenchOpener) {
	for _, size := range benchSizes {
		for _, par := range []int{1, 8} {
			name := fmt.Sprintf("size=%dKiB/writers=%d", size>>10, par)
			b.Run("baseline=file+fsync/"+name, func(b *testing.B) {
				dir := b.TempDir()
				var next atomic.Int64
				runWriters(b, par, func() func() error {
					f, err := os.OpenFile(filepath.Join(dir, fmt.Sprint(next.Add(1))), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { f.Close() })
					data := make([]byte, size)
					return func() error {
						if _, err := f.Write(data); err != nil {
							return err
						}
						return f.Sync()
					}
				})
			})
			b.Run("store/"+name, func(b *testing.B) {
				s := open(b)
				b.Cleanup(func() { s.Close() })
				var next atomic.Int64
				runWriters(b, par, func() func() error {
					id := fmt.Sprintf("MACC-BENCH-%d", next.Add(1))
					a := store.Account{ID: id, Created: time.Now()}
					if err := s.CreateAccount(b.Context(), a, [][]byte{[]byte("genesis")}); err != nil {
						b.Fatal(err)
					}
					data := make([]byte, size)
					seq := uint64(0)
					return func() error {
						seq++
						return s.Append(b.Context(), id, seq, data)
					}
				})
			})
		}
	}
}

// runWriters runs b.N operations spread over par goroutines; newWriter is
// called once per goroutine, before the timer starts, for its operation.
func runWriters(b *testing.B, par int, newWriter func() func() error) {
	b.Helper()
	ops := make([]func() error, par)
	for i := range ops {
		ops[i] = newWriter()
	}
	var left atomic.Int64
	left.Store(int64(b.N))
	errc := make(chan error, par)
	b.ResetTimer()
	for _, op := range ops {
		go func() {
			for left.Add(-1) >= 0 {
				if err := op(); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for range par {
		if err := <-errc; err != nil {
			b.Error(err)
		}
	}
	b.StopTimer()
}

// BenchEntries measures reading 100 entries of 1 KiB from a 1000-entry log,
// beside a baseline that reads the same 100 KiB from a plain file with one
// ReadAt (from the page cache, like the store's hot data).
func BenchEntries(b *testing.B, open BenchOpener) {
	const n, size, batch = 1000, 1 << 10, 100
	b.Run("baseline=file-read", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "log")
		if err := os.WriteFile(path, make([]byte, n*size), 0o600); err != nil {
			b.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		buf := make([]byte, batch*size)
		for i := 0; b.Loop(); i++ {
			if _, err := f.ReadAt(buf, int64(i%(n-batch))*size); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("store", func(b *testing.B) {
		s := open(b)
		defer s.Close()
		const id = "MACC-BENCH"
		log := make([][]byte, n)
		for i := range log {
			log[i] = make([]byte, size)
		}
		err := s.CreateAccount(b.Context(), store.Account{ID: id, Created: time.Now()}, log)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; b.Loop(); i++ {
			got, err := s.Entries(b.Context(), id, uint64(i%(n-batch)), batch)
			if err != nil || len(got) != batch {
				b.Fatalf("Entries: got %d entries, error %v; want %d", len(got), err, batch)
			}
		}
	})
}
