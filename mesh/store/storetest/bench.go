package storetest

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/endymail/endymail/mesh/store"
)

// BenchOpener opens a fresh, empty store for one benchmark.
type BenchOpener func(b *testing.B) store.Store

// The benchmarks pair every store operation with a baseline operation on a
// plain file in b.TempDir(), run back to back in the same goroutine, so that
// the noise of a shared machine hits both alike. Each reports the mean latency
// of both (store-µs/op, file-µs/op) and their ratio (x-file); ns/op is the
// time of the pair.

// pair is one store operation and its baseline.
type pair struct{ store, file func() error }

// runPairs runs b.N pairs spread over par goroutines; newPair is called once
// per goroutine, before the timer starts.
func runPairs(b *testing.B, par int, newPair func() pair) {
	b.Helper()
	pairs := make([]pair, par)
	for i := range pairs {
		pairs[i] = newPair()
	}
	var (
		mu                sync.Mutex
		storeDur, fileDur time.Duration
		wg                sync.WaitGroup
		next              = make(chan struct{}, b.N)
	)
	for range b.N {
		next <- struct{}{}
	}
	close(next)
	b.ResetTimer()
	for _, p := range pairs {
		wg.Go(func() {
			var s, f time.Duration
			for range next {
				t0 := time.Now()
				if err := p.file(); err != nil {
					b.Error(err)
					return
				}
				t1 := time.Now()
				if err := p.store(); err != nil {
					b.Error(err)
					return
				}
				s, f = s+time.Since(t1), f+t1.Sub(t0)
			}
			mu.Lock()
			storeDur, fileDur = storeDur+s, fileDur+f
			mu.Unlock()
		})
	}
	wg.Wait()
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(storeDur.Microseconds())/n, "store-µs/op")
	b.ReportMetric(float64(fileDur.Microseconds())/n, "file-µs/op")
	b.ReportMetric(float64(storeDur)/float64(fileDur), "x-file")
}

// BenchAppend measures Append of 1 KiB and 64 KiB entries, from one goroutine
// and from 8 that each append to their own account, against appending the
// same bytes to a plain file and fsyncing it (one file per goroutine).
func BenchAppend(b *testing.B, open BenchOpener) {
	for _, size := range []int{1 << 10, 64 << 10} {
		for _, par := range []int{1, 8} {
			b.Run(fmt.Sprintf("size=%dKiB/writers=%d", size>>10, par), func(b *testing.B) {
				s := open(b)
				b.Cleanup(func() { s.Close() })
				dir := b.TempDir()
				n := 0
				runPairs(b, par, func() pair {
					n++
					return appendPair(b, s, filepath.Join(dir, fmt.Sprint(n)), fmt.Sprintf("MACC-BENCH-%d", n), size)
				})
			})
		}
	}
}

// appendPair returns an Append to a new account id and a file append+fsync
// to path, both of size bytes.
func appendPair(b *testing.B, s store.Store, path, id string, size int) pair {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	a := store.Account{ID: id, Created: time.Now()}
	if err := s.CreateAccount(b.Context(), a, [][]byte{[]byte("genesis")}); err != nil {
		b.Fatal(err)
	}
	data := make([]byte, size)
	seq := uint64(0)
	return pair{
		store: func() error {
			seq++
			return s.Append(b.Context(), id, seq, data)
		},
		file: func() error {
			if _, err := f.Write(data); err != nil {
				return err
			}
			return f.Sync()
		},
	}
}

// BenchEntries measures reading 100 entries of 1 KiB from a 1000-entry log
// against reading the same 100 KiB from a plain file with one ReadAt (from
// the page cache, like the store's hot data).
func BenchEntries(b *testing.B, open BenchOpener) {
	const n, size, batch = 1000, 1 << 10, 100
	s := open(b)
	defer s.Close()
	const id = "MACC-BENCH"
	log := make([][]byte, n)
	for i := range log {
		log[i] = make([]byte, size)
	}
	if err := s.CreateAccount(b.Context(), store.Account{ID: id, Created: time.Now()}, log); err != nil {
		b.Fatal(err)
	}
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
	i := 0
	runPairs(b, 1, func() pair {
		return pair{
			store: func() error {
				got, err := s.Entries(b.Context(), id, uint64(i%(n-batch)), batch)
				if err == nil && len(got) != batch {
					err = fmt.Errorf("entries: got %d, want %d", len(got), batch)
				}
				i++
				return err
			},
			file: func() error {
				_, err := f.ReadAt(buf, int64(i%(n-batch))*size)
				return err
			},
		}
	})
}
