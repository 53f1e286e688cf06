package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/mesh/server"
	"github.com/endymail/endymail/mesh/store/boltstore"
)

func init() {
	register(&command{name: "demo", summary: "show the whole story on this machine, in a temporary directory", run: runDemo})
}

// demoStep prints a numbered step heading.
type demoOut struct {
	w    io.Writer
	step int
}

func (d *demoOut) say(format string, args ...any) {
	d.step++
	fmt.Fprintf(d.w, "\n[%d] %s\n", d.step, fmt.Sprintf(format, args...))
}

func (d *demoOut) detail(format string, args ...any) { fmt.Fprintf(d.w, "    "+format+"\n", args...) }

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo", "[--keep]")
	keep := fs.Bool("keep", false, "keep the temporary directory and print its path")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "endymail-demo-")
	if err != nil {
		return err
	}
	if *keep {
		defer fmt.Fprintf(e.stdout, "\nkept: %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	out := &demoOut{w: e.stdout}
	fmt.Fprintf(e.stdout, "endymail demo: two devices of one user, an embedded mesh service, all under %s\n", dir)
	meshURL, stop, err := demoMesh(ctx, out, filepath.Join(dir, "mesh"))
	if err != nil {
		return err
	}
	defer stop()
	return demoDevices(ctx, out, dir, meshURL)
}

// demoMesh starts the mesh service on a loopback port with the embedded store.
func demoMesh(ctx context.Context, out *demoOut, dir string) (string, func(), error) {
	out.say("starting the mesh service (embedded single-file store) on loopback")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, err
	}
	st, err := boltstore.Open(filepath.Join(dir, "mesh.db"), boltstore.Options{})
	if err != nil {
		return "", nil, err
	}
	srv, err := server.New(server.Config{Store: st, PoWBits: 16})
	if err != nil {
		st.Close()
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		st.Close()
		return "", nil, err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	url := "http://" + ln.Addr().String()
	out.detail("mesh: %s (it stores only signed records and encrypted bundles)", url)
	return url, func() { hs.Close(); st.Close() }, nil
}

func demoDevices(ctx context.Context, out *demoOut, dir, meshURL string) error {
	const address = "alice@example.com"
	out.say("device A (%q) creates the account for %s", "laptop", address)
	a, err := agent.Open(filepath.Join(dir, "device-a"))
	if err != nil {
		return err
	}
	res, err := a.Init(ctx, address, meshURL, "laptop")
	if err != nil {
		return err
	}
	out.detail("account %s", res.Account)
	out.detail("device A %s is its first admin", res.Device)
	out.detail("recovery shares (2 of 3 recover the account; a real user writes them down):")
	for _, s := range res.Shares {
		out.detail("  %s", s)
	}
	secret := []byte("demo secret: the keys of " + address + "\n")
	out.say("device A stores a secret bundle, end-to-end encrypted to its devices")
	if _, err := a.PutBundle(ctx, "demo", secret); err != nil {
		return err
	}
	out.detail("bundle %q sealed with AES-256-GCM, key wrapped with HPKE (ML-KEM-768+X25519) to device A only", "demo")
	return demoConnect(ctx, out, dir, meshURL, address, a, secret)
}

func demoConnect(ctx context.Context, out *demoOut, dir, meshURL, address string, a *agent.Agent, secret []byte) error {
	out.say("device B (%q) asks to join; both screens show a code", "phone")
	b, err := agent.Open(filepath.Join(dir, "device-b"))
	if err != nil {
		return err
	}
	codeB := make(chan string, 1)
	type result struct {
		res *agent.ConnectResult
		err error
		at  time.Time
	}
	done := make(chan result, 1)
	go func() {
		r, err := b.Connect(ctx, address, meshURL, "phone", time.Minute, func(c string) { codeB <- c })
		done <- result{r, err, time.Now()}
	}()
	var code string
	select {
	case code = <-codeB:
	case r := <-done:
		return r.err
	}
	out.detail("device B shows: %s", code)
	reqs, err := a.Pending(ctx)
	if err != nil {
		return err
	}
	if len(reqs) != 1 {
		return fmt.Errorf("device A sees %d pending requests, want 1", len(reqs))
	}
	out.detail("device A shows: %s  (%q wants to use your mail keys)", reqs[0].Code, reqs[0].Name)
	out.say("the user types the code from B's screen on A: endymail approve %s", code)
	if _, err := a.Approve(ctx, agent.ApproveOptions{Code: code}); err != nil {
		return err
	}
	approved := time.Now()
	r := <-done
	if r.err != nil {
		return r.err
	}
	out.detail("device B was told %s after the approval (long poll), verified the log and opened: %v",
		r.at.Sub(approved).Round(time.Millisecond), r.res.Bundles)
	got, err := b.GetBundle(ctx, "demo")
	if err != nil {
		return err
	}
	if !bytes.Equal(got, secret) {
		return errors.New("device B decrypted different content than device A stored")
	}
	out.say("device B decrypted the bundle A stored before B existed: %q", string(bytes.TrimSpace(got)))
	fmt.Fprintln(out.w, "\ndemo complete")
	return nil
}
