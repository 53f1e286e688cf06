package agent

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/endymail/endymail/mesh/server"
	"github.com/endymail/endymail/mesh/server/servertest"
)

// tamper rewrites the service's answers: it sees each request and the real
// service's status and body and returns the body to send instead. It stands
// for a hostile or broken mesh service in front of the real one.
type tamper func(r *http.Request, status int, body []byte) []byte

// hostile wraps the real service's handler with a tamper hook that tests can
// swap at any time.
type hostile struct {
	mu   sync.Mutex
	hook tamper
	pre  func(r *http.Request) // may rewrite the request before the service sees it
	next http.Handler
}

func (h *hostile) set(t tamper) {
	h.mu.Lock()
	h.hook = t
	h.mu.Unlock()
}

func (h *hostile) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	hook, pre := h.hook, h.pre
	h.mu.Unlock()
	if pre != nil {
		pre(r)
	}
	if hook == nil {
		h.next.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	h.next.ServeHTTP(rec, r)
	r.Body = io.NopCloser(bytes.NewReader(body))
	out := hook(r, rec.Code, rec.Body.Bytes())
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length") // the hook may change the body's length
	w.WriteHeader(rec.Code)
	w.Write(out)
}

// startMesh runs the real mesh service (embedded store, low proof of work)
// behind a hostile wrapper and returns its URL.
func startMesh(t testing.TB) (string, *hostile) {
	t.Helper()
	h := &hostile{next: servertest.New(t, server.Config{}).Handler()}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL, h
}

func openAgent(t *testing.T) *Agent {
	t.Helper()
	a, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a.Clients = nil // tests that configure clients set their own
	return a
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

const alice = "alice@example.com"

// newAccount makes device A with an account and a bundle "mail".
func newAccount(t *testing.T, url string) *Agent {
	t.Helper()
	a := openAgent(t)
	if _, err := a.Init(ctxT(t), alice, url, "laptop"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PutBundle(ctxT(t), "mail", []byte("alice's keys")); err != nil {
		t.Fatal(err)
	}
	return a
}

// connecting is a connection attempt running in the background.
type connecting struct {
	code chan string
	done chan connectDone
}

type connectDone struct {
	res *ConnectResult
	err error
	at  time.Time
}

func startConnect(t *testing.T, b *Agent, url, name string) *connecting {
	c := &connecting{code: make(chan string, 1), done: make(chan connectDone, 1)}
	go func() {
		r, err := b.Connect(ctxT(t), ConnectOptions{Address: alice, Mesh: url, DeviceName: name, Timeout: 30 * time.Second}, func(code string) { c.code <- code })
		c.done <- connectDone{r, err, time.Now()}
	}()
	return c
}

func (c *connecting) waitCode(t *testing.T) string {
	t.Helper()
	select {
	case code := <-c.code:
		return code
	case d := <-c.done:
		t.Fatalf("connect ended before showing a code: %v", d.err)
	case <-time.After(30 * time.Second):
		t.Fatal("no code within 30s")
	}
	return ""
}

func (c *connecting) wait(t *testing.T) connectDone {
	t.Helper()
	select {
	case d := <-c.done:
		return d
	case <-time.After(40 * time.Second):
		t.Fatal("connect did not end within 40s")
	}
	return connectDone{}
}

func TestConnectApproveReceivesEarlierBundle(t *testing.T) {
	url, _ := startMesh(t)
	a := newAccount(t, url)
	b := openAgent(t)
	c := startConnect(t, b, url, "phone")
	code := c.waitCode(t)
	reqs, err := a.Pending(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 1 || reqs[0].Code != code || reqs[0].Name != "phone" {
		t.Fatalf("pending on A: got %+v, want one request from %q with code %s", reqs, "phone", code)
	}
	if _, err := a.Approve(ctxT(t), ApproveOptions{Code: code}); err != nil {
		t.Fatal(err)
	}
	approved := time.Now()
	d := c.wait(t)
	if d.err != nil {
		t.Fatalf("connect: %v", d.err)
	}
	if lag := d.at.Sub(approved); lag > time.Second {
		t.Errorf("B learned of the approval %s after it, want < 1s (long poll)", lag)
	}
	if d.res.ApprovedBy != "laptop" {
		t.Errorf("approved by %q, want laptop", d.res.ApprovedBy)
	}
	if len(d.res.Bundles) != 1 || d.res.Bundles[0] != "mail" {
		t.Errorf("B received bundles %v, want [mail]", d.res.Bundles)
	}
	got, err := b.GetBundle(ctxT(t), "mail")
	if err != nil || string(got) != "alice's keys" {
		t.Errorf("B's bundle: got %q, %v", got, err)
	}
	devs, err := b.Devices(ctxT(t))
	if err != nil || len(devs) != 2 {
		t.Errorf("B sees devices %+v, %v; want 2", devs, err)
	}
}

func TestDenyTellsDevice(t *testing.T) {
	url, _ := startMesh(t)
	a := newAccount(t, url)
	b := openAgent(t)
	c := startConnect(t, b, url, "stranger")
	c.waitCode(t)
	reqs, err := a.Pending(ctxT(t))
	if err != nil || len(reqs) != 1 {
		t.Fatalf("pending: %v %v", reqs, err)
	}
	if err := a.Deny(ctxT(t), reqs[0].ID); err != nil {
		t.Fatal(err)
	}
	if d := c.wait(t); d.err == nil || !errors.Is(d.err, ErrDenied) {
		t.Errorf("connect after deny: got %v, want ErrDenied", d.err)
	}
}

// A mesh that answers for alice with an account of its own (here: another
// service where someone else registered alice first) cannot lead B into
// it when B pins the account fingerprint read on A: nothing is posted
// there. With the right fingerprint, typed in lower case with dashes and
// only its first 24 characters, B connects as usual.
func TestConnectPinnedAccount(t *testing.T) {
	realURL, _ := startMesh(t)
	evilURL, _ := startMesh(t)
	a := openAgent(t)
	res, err := a.Init(ctxT(t), alice, realURL, "laptop")
	if err != nil {
		t.Fatal(err)
	}
	evil := openAgent(t)
	if _, err := evil.Init(ctxT(t), alice, evilURL, "mallory"); err != nil {
		t.Fatal(err)
	}

	b := openAgent(t)
	opt := ConnectOptions{Address: alice, Mesh: evilURL, DeviceName: "phone", Timeout: 5 * time.Second, Account: res.Account}
	_, err = b.Connect(ctxT(t), opt, func(string) { t.Error("a code was shown for the wrong account") })
	if !errors.Is(err, ErrOtherAccount) {
		t.Fatalf("connect through the other service: got %v, want ErrOtherAccount", err)
	}
	if reqs, err := evil.Pending(ctxT(t)); err != nil || len(reqs) != 0 {
		t.Errorf("requests on the other account: got %d, %v; want none posted", len(reqs), err)
	}

	typed := strings.ToLower(res.Account[:24])
	opt.Mesh, opt.Account, opt.Timeout = realURL, typed, 30*time.Second
	codes := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		_, err := b.Connect(ctxT(t), opt, func(c string) { codes <- c })
		done <- err
	}()
	if _, err := a.Approve(ctxT(t), ApproveOptions{Code: <-codes}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("connect with the pinned account %q: %v", typed, err)
	}
}

func TestSameAccount(t *testing.T) {
	const acct = "MBCDE-FGHIJ-KLMNO-PQRST-UVWXY-Z2345"
	for _, c := range []struct {
		typed string
		want  bool
	}{
		{acct, true},
		{"mbcde-fghij-klmno-pqrst", true},
		{"MBCDEFGHIJKLMNOPQRST", true},
		{"MBCDE-FGHIJ-KLMNO-PQRS", false}, // 19 characters: too short to pin
		{"MBCDE-FGHIJ-KLMNO-PQRSX", false},
		{"", false},
	} {
		if got := sameAccount(c.typed, acct); got != c.want {
			t.Errorf("sameAccount(%q): got %v, want %v", c.typed, got, c.want)
		}
	}
}

// A request nobody answers expires on the service; the new device's long
// poll is answered at the expiry itself (not at the end of its wait) and
// connect says so.
func TestConnectRequestExpires(t *testing.T) {
	url, _ := servertest.Start(t, server.Config{Limits: server.Limits{RequestTTL: time.Second}})
	newAccount(t, url)
	b := openAgent(t)
	start := time.Now()
	_, err := b.Connect(ctxT(t), ConnectOptions{Address: alice, Mesh: url, DeviceName: "phone", Timeout: 30 * time.Second}, func(string) {})
	if !errors.Is(err, ErrExpired) {
		t.Fatalf("connect: got %v, want ErrExpired", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the expiry was noticed after %s, want soon after the request's 1s lifetime", d.Round(time.Millisecond))
	}
}
