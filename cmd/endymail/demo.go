package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/agent/daemon"
	"github.com/endymail/endymail/clients/gnupg"
	"github.com/endymail/endymail/clients/thunderbird"
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
	defer stopGPGAgent(filepath.Join(dir, "gnupg"))
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

const demoAddress = "alice@example.com"

func demoDevices(ctx context.Context, out *demoOut, dir, meshURL string) error {
	out.say("device A (%q) creates the account for %s", "laptop", demoAddress)
	a, err := agent.Open(filepath.Join(dir, "device-a"))
	if err != nil {
		return err
	}
	a.Clients = nil // the demo configures only device B's throwaway clients
	res, err := a.Init(ctx, demoAddress, meshURL, "laptop")
	if err != nil {
		return err
	}
	out.detail("account %s", res.Account)
	out.detail("device A %s is its first admin", res.Device)
	out.detail("recovery shares (2 of 3 recover the account; a real user writes them down):")
	for _, s := range res.Shares {
		out.detail("  %s", s)
	}
	out.say("device A enables %s: personal CA, S/MIME certificate, OpenPGP key", demoAddress)
	en, err := a.Enable(ctx, agent.EnableOptions{Address: demoAddress, Name: "Demo user"})
	if err != nil {
		return err
	}
	out.detail("S/MIME certificate serial %s (RSA-3072, issued by the account's personal CA)", en.SMIMESerial)
	out.detail("OpenPGP key %s (Ed25519 + Curve25519)", en.OpenPGP)
	out.detail("private keys sealed in bundles (AES-256-GCM, key wrapped with HPKE ML-KEM-768+X25519 per device)")
	out.detail("public keys published in the signed account log")
	return demoConnect(ctx, out, dir, meshURL, a)
}

func demoConnect(ctx context.Context, out *demoOut, dir, meshURL string, a *agent.Agent) error {
	b, err := agent.Open(filepath.Join(dir, "device-b"))
	if err != nil {
		return err
	}
	out.say("device B (%q) has a mail client and runs the endymail agent", "phone")
	demoClients(ctx, out, dir, b)
	d, err := daemon.New(daemon.Config{Agent: b, ThunderbirdRoots: []string{}, MinBackoff: 200 * time.Millisecond})
	if err != nil {
		return err
	}
	actx, stopAgent := context.WithCancel(ctx)
	defer stopAgent()
	go d.Run(actx)
	out.detail("B's agent is waiting: it has no account yet")

	out.say("device B asks to join; both screens show a code")
	codeB := make(chan string, 1)
	type result struct {
		res *agent.ConnectResult
		err error
		at  time.Time
	}
	done := make(chan result, 1)
	go func() {
		r, err := b.Connect(ctx, agent.ConnectOptions{Address: demoAddress, Mesh: meshURL, DeviceName: "phone", Timeout: time.Minute}, func(c string) { codeB <- c })
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
	if err := demoAgentResult(ctx, out, d, b, approved); err != nil {
		return err
	}
	return demoSelftest(ctx, out, b)
}

// demoClients gives device B a throwaway mail client: a Thunderbird profile
// with an identity for the demo address, or a GnuPG home.
func demoClients(ctx context.Context, out *demoOut, dir string, b *agent.Agent) {
	profile, err := demoProfile(ctx, dir, demoAddress)
	switch {
	case errors.Is(err, errNoThunderbird):
		out.detail("skipped Thunderbird: it is not installed (apt-get install thunderbird); using a throwaway GnuPG home")
		b.Clients = demoGnuPG(dir)
	case err != nil:
		out.detail("skipped Thunderbird: could not make a throwaway profile: %v; using a throwaway GnuPG home", err)
		b.Clients = demoGnuPG(dir)
	default:
		out.detail("a throwaway Thunderbird profile with an identity for %s: %s", demoAddress, profile)
		b.Clients = []agent.NamedClient{{Name: "thunderbird", Configurator: thunderbird.New(thunderbird.Options{Profiles: []string{profile}})}}
	}
}

// demoAgentResult waits (up to 30 s) for B's agent to have configured the
// client after the approval, and shows the client's identities.
func demoAgentResult(ctx context.Context, out *demoOut, d *daemon.Daemon, b *agent.Agent, approved time.Time) error {
	out.say("B's agent applies the keys to B's mail client, with no command")
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := d.State()
		if len(st.Addresses[demoAddress]) > 0 && st.InProgress == nil {
			out.detail("agent: %s (%s after the approval)", st.Summary, st.LastRun.Sub(approved).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("device B's agent did not configure the client within 30s (last: %s %s)", st.Summary, st.Error)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	ids, err := b.Identities(ctx)
	for _, id := range ids {
		state := "not enabled"
		if id.Enabled {
			state = "endymail enabled"
		}
		out.detail("%s: %s %s: %s", id.Client, id.Location, id.Address, state)
	}
	return err
}

// demoSelftest runs the self test on device B.
func demoSelftest(ctx context.Context, out *demoOut, b *agent.Agent) error {
	out.say("device B runs the self test with the keys it received")
	checks, err := b.Selftest(ctx, demoAddress)
	if err != nil {
		return err
	}
	failed := false
	for _, c := range checks {
		mark := "ok  "
		if !c.OK {
			mark, failed = "FAIL", true
		}
		out.detail("%s %s: %s", mark, c.Name, c.Detail)
	}
	if failed {
		return errors.New("self test failed on device B")
	}
	fmt.Fprintln(out.w, "\ndemo complete: device B signs and encrypts with the keys device A made, after one approval")
	return nil
}

// demoGnuPG is a configurator for a throwaway GnuPG home under dir.
func demoGnuPG(dir string) []agent.NamedClient {
	home := filepath.Join(dir, "gnupg")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil
	}
	return []agent.NamedClient{{Name: "gnupg", Configurator: gnupg.New(gnupg.Options{Home: home})}}
}

// stopGPGAgent ends the gpg-agent a throwaway GnuPG home started, if any.
func stopGPGAgent(home string) {
	if _, err := os.Stat(home); err == nil {
		exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run()
	}
}
