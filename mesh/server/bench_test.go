package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/endymail/endymail/mesh/proto"
)

// Service benchmarks over loopback HTTP. Each reports p50/p99 latency next to
// BenchmarkTrivialHandler, a handler that only writes a small JSON answer,
// measured the same way: compare them as a ratio (benchstat), never as
// absolute numbers on these shared machines.

// latencies records per-request durations and reports percentiles.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B) {
	slices.Sort(l.d)
	if len(l.d) == 0 {
		return
	}
	b.ReportMetric(float64(l.d[len(l.d)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(l.d[len(l.d)*99/100].Microseconds()), "p99-µs")
}

func get(b *testing.B, c *http.Client, url string, l *latencies) {
	start := time.Now()
	resp, err := c.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	l.add(time.Since(start))
}

func BenchmarkTrivialHandler(b *testing.B) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, proto.Health{Status: "ok", Version: 1})
	}))
	defer ts.Close()
	var l latencies
	c := ts.Client()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			get(b, c, ts.URL+"/", &l)
		}
	})
	l.report(b)
}

func BenchmarkLogRead(b *testing.B) {
	f := newFixture(b, Limits{})
	a := newAcct(b, "alice@example.com")
	benchCreate(b, f, a)
	url := f.ts.URL + "/v1/accounts/" + a.st.Account + "/log?from=0"
	var l latencies
	c := f.ts.Client()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			get(b, c, url, &l)
		}
	})
	l.report(b)
}

// BenchmarkAppend appends signed entries one per request (each verified and
// fsynced before the answer), one account per parallel worker.
func BenchmarkAppend(b *testing.B) {
	f := newFixture(b, Limits{MaxEntries: 1 << 30, AccountRate: 1e9, AccountBurst: 1 << 30})
	var l latencies
	var n sync.Mutex
	i := 0
	b.RunParallel(func(pb *testing.PB) {
		n.Lock()
		i++
		a := newAcct(b, fmt.Sprintf("user%d@example.com", i))
		n.Unlock()
		benchCreate(b, f, a)
		c := f.ts.Client()
		for pb.Next() {
			env := a.next(b, a.admin, proto.KindPublish, func(e *proto.Entry) {
				e.Publish = &proto.Publish{Address: a.st.Handle, OpenPGP: []byte("key")}
			})
			body, _ := json.Marshal(proto.AppendEntries{Entries: []proto.Envelope{env}})
			start := time.Now()
			resp, err := c.Post(f.ts.URL+"/v1/accounts/"+a.st.Account+"/log", "application/json", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("append: %d", resp.StatusCode)
			}
			l.add(time.Since(start))
		}
	})
	l.report(b)
}

func benchCreate(b *testing.B, f *fixture, a *acct) {
	body, _ := json.Marshal(proto.CreateAccount{Entries: a.log})
	hdr := map[string]string{proto.PoWHeader: f.powFor("account", body)}
	req, _ := http.NewRequest("POST", f.ts.URL+"/v1/accounts", bytes.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		b.Fatalf("create: %v %v", err, resp.Status)
	}
	resp.Body.Close()
}

// BenchmarkLongPollMemory holds 500 long polls on one account and reports the
// service-side heap and goroutine cost per held connection (the client side
// lives in the same process, so the figure is an upper bound). One
// measurement per run whatever b.N is: run it with -benchtime 1x.
func BenchmarkLongPollMemory(b *testing.B) {
	for range min(b.N, 1) {
		f := newFixture(b, Limits{MaxWaitsPerHost: 1 << 20})
		a := newAcct(b, "alice@example.com")
		benchCreate(b, f, a)
		const conns = 500
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		g0 := runtime.NumGoroutine()
		tr := &http.Transport{MaxIdleConnsPerHost: conns}
		c := &http.Client{Transport: tr}
		var wg sync.WaitGroup
		url := fmt.Sprintf("%s/v1/accounts/%s/events?after=1&rev=0&wait=30", f.ts.URL, a.st.Account)
		for range conns {
			wg.Go(func() {
				resp, err := c.Get(url)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
		deadline := time.Now().Add(30 * time.Second)
		for f.srv.limit.held("127.0.0.1") < conns {
			if time.Now().After(deadline) {
				b.Fatalf("only %d of %d long polls held", f.srv.limit.held("127.0.0.1"), conns)
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapInuse+after.StackInuse-before.HeapInuse-before.StackInuse)/conns, "bytes/conn")
		b.ReportMetric(float64(runtime.NumGoroutine()-g0)/conns, "goroutines/conn")
		f.ts.CloseClientConnections()
		wg.Wait()
		f.ts.Close()
	}
}
