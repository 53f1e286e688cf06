package server

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"maps"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/endymail/endymail/mesh/proto"
)

// BenchmarkLookupVsStatic measures the throughput of /v1/lookup and of WKD
// against the same answers served as static files, by a trivial Go file
// server and by nginx when it is installed, in one run: rounds of a fixed
// time per target, interleaved, with the same client load. It reports each
// target's requests per second and the ratios (the figure that matters on a
// shared, noisy machine). One measurement per run: use -benchtime 1x.
//
// The load generator shares the process (and CPUs) with the Go servers but
// not with nginx, which favours nginx: the ratios are a lower bound.
func BenchmarkLookupVsStatic(b *testing.B) {
	for range min(b.N, 1) {
		f := newFixture(b, Limits{AccountRate: 1e9, AccountBurst: 1 << 30})
		if err := f.srv.initPublic([]string{"example.com"}); err != nil {
			b.Fatal(err)
		}
		const users = 50
		www := b.TempDir()
		targets := map[string][]string{}
		paths := map[string][]string{} // of the static copies
		for i := range users {
			local := fmt.Sprintf("user%d", i)
			addr := local + "@example.com"
			a := newAcct(b, addr)
			benchCreate(b, f, a)
			key := make([]byte, 700) // the size of an Ed25519+Cv25519 transferable public key
			rand.Read(key)
			f.publish(a, addr, key)
			lookupPath := "/v1/lookup?addr=" + addr
			wkdPath := "/.well-known/openpgpkey/example.com/hu/" + proto.WKDHash(local) // advanced: no Host needed
			code, _, body := f.get("", lookupPath)
			if code != 200 {
				b.Fatalf("lookup %s: %d", addr, code)
			}
			writeStatic(b, www, "lookup/"+addr+".json", body)
			writeStatic(b, www, wkdPath, key)
			targets["mesh-lookup"] = append(targets["mesh-lookup"], f.ts.URL+lookupPath)
			targets["mesh-wkd"] = append(targets["mesh-wkd"], f.ts.URL+wkdPath+"?l="+local)
			paths["lookup"] = append(paths["lookup"], "/lookup/"+addr+".json")
			paths["wkd"] = append(paths["wkd"], wkdPath+"?l="+local)
		}
		gofs := httptest.NewServer(http.FileServer(http.Dir(www)))
		defer gofs.Close()
		static := map[string]string{"gofs": gofs.URL}
		if nginx, err := exec.LookPath("nginx"); err == nil {
			url, stop := startNginx(b, nginx, www)
			defer stop()
			static["nginx"] = url
		} else {
			b.Log("nginx not installed: comparing with the Go file server only")
		}
		for name, base := range static {
			for _, kind := range []string{"lookup", "wkd"} {
				for _, p := range paths[kind] {
					targets[name+"-"+kind] = append(targets[name+"-"+kind], base+p)
				}
			}
		}
		rps := measure(b, targets, 10, 300*time.Millisecond)
		for name, v := range rps {
			b.ReportMetric(v, name+"-req/s")
		}
		for name := range static {
			for _, kind := range []string{"lookup", "wkd"} {
				b.ReportMetric(rps["mesh-"+kind]/rps[name+"-"+kind], kind+"/"+name)
			}
		}
	}
}

func writeStatic(b *testing.B, root, path string, data []byte) {
	p := filepath.Join(root, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		b.Fatal(err)
	}
}

// measure runs rounds × per-target load with 8 keep-alive clients, the
// targets in a new random order each round (short rounds, so that a burst
// of load from elsewhere hits every target alike), and returns requests per
// second per target.
func measure(b *testing.B, targets map[string][]string, rounds int, d time.Duration) map[string]float64 {
	const workers = 8
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	total := map[string]int64{}
	names := slices.Sorted(maps.Keys(targets))
	for range rounds {
		mrand.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
		for _, name := range names {
			urls := targets[name]
			var n atomic.Int64
			ctx, cancel := context.WithTimeout(context.Background(), d)
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					for i := w; ctx.Err() == nil; i++ {
						resp, err := c.Get(urls[i%len(urls)])
						if err != nil {
							b.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != 200 {
							b.Errorf("%s: HTTP %d", urls[i%len(urls)], resp.StatusCode)
							return
						}
						n.Add(1)
					}
				})
			}
			wg.Wait()
			cancel()
			total[name] += n.Load()
		}
	}
	out := map[string]float64{}
	for name, n := range total {
		out[name] = float64(n) / (float64(rounds) * d.Seconds())
	}
	return out
}

// startNginx serves root with nginx (two workers, no access log) on a free
// loopback port and returns its URL and a stop function.
func startNginx(b *testing.B, bin, root string) (string, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := b.TempDir()
	conf := fmt.Sprintf(`daemon off;
user root;
worker_processes 2;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/octet-stream;
  client_body_temp_path %[1]s; proxy_temp_path %[1]s; fastcgi_temp_path %[1]s; uwsgi_temp_path %[1]s; scgi_temp_path %[1]s;
  server { listen %[2]s; root %[3]s; }
}
`, dir, addr, root)
	writeStatic(b, dir, "nginx.conf", []byte(conf))
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	for deadline := time.Now().Add(5 * time.Second); ; {
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			stop()
			b.Fatal("nginx did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "http://" + addr, stop
}
