package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/endymail/endymail/mesh/pow"
	"github.com/endymail/endymail/mesh/proto"
	"github.com/endymail/endymail/mesh/store"
	"github.com/endymail/endymail/mesh/store/boltstore"
)

// fixture is a real service over the embedded store, with a settable clock.
type fixture struct {
	t   testing.TB
	st  store.Store
	srv *Server
	ts  *httptest.Server
	now time.Time
}

const testBits = 6

func newFixture(t testing.TB, lim Limits) *fixture {
	t.Helper()
	f := &fixture{t: t, now: time.Now()}
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "mesh.db"), boltstore.Options{Now: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	if lim.ClientRate == 0 {
		lim.ClientRate, lim.ClientBurst = 1e6, 1e6
	}
	f.srv, err = New(Config{Store: st, PoWBits: testBits, PoWKey: []byte("0123456789abcdef0123456789abcdef"), Limits: lim, Now: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	f.ts = httptest.NewServer(f.srv.Handler())
	t.Cleanup(f.ts.Close)
	return f
}

func (f *fixture) clock() time.Time { return f.now }

// do sends a request and returns status and body.
func (f *fixture) do(method, path string, body []byte, hdr map[string]string) (int, []byte) {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.ts.URL+path, bytes.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// powFor solves a fresh challenge bound to body.
func (f *fixture) powFor(purpose string, body []byte) string {
	f.t.Helper()
	code, b := f.do("GET", "/v1/challenge?purpose="+purpose, nil, nil)
	if code != 200 {
		f.t.Fatalf("challenge: %d %s", code, b)
	}
	var ch proto.Challenge
	json.Unmarshal(b, &ch)
	bind := sha256.Sum256(body)
	sol, err := pow.Solve(context.Background(), ch.Token, ch.Bits, bind[:], nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return ch.Token + "." + base64.RawURLEncoding.EncodeToString(sol)
}

// acct is a test account: root, one admin device key.
type acct struct {
	root, admin *proto.SigningKey
	log         []proto.Envelope
	st          *proto.State
}

func newAcct(t testing.TB, handle string) *acct {
	root, _ := proto.GenerateSigningKey()
	admin, _ := proto.GenerateSigningKey()
	kem, _ := proto.KEM().GenerateKey()
	a := &acct{root: root, admin: admin}
	id := proto.AccountID(root.Public())
	g := &proto.Entry{V: 1, Account: id, Time: time.Now().UTC(), Signer: root.ID(), Kind: proto.KindGenesis,
		Genesis: &proto.Genesis{Handle: handle, RootKey: root.Public(), Recovery: proto.RecoveryPolicy{Threshold: 2, Shares: 3}}}
	genv, _ := proto.Sign(proto.ContextEntry, g.Marshal(), root)
	a.log = []proto.Envelope{genv}
	a.st, _ = proto.NewState(genv)
	dev := proto.DeviceProfile{Name: "laptop", SignKey: admin.Public(), HPKEKey: kem.PublicKey().Bytes()}
	a.log = append(a.log, a.next(t, root, proto.KindDeviceAdd, func(e *proto.Entry) { e.DeviceAdd = &proto.DeviceAdd{Device: dev, Admin: true} }))
	return a
}

// next signs the next entry and applies it to a's own state.
func (a *acct) next(t testing.TB, k *proto.SigningKey, kind string, body func(*proto.Entry)) proto.Envelope {
	e := &proto.Entry{V: 1, Account: a.st.Account, Seq: a.st.Seq + 1, Prev: a.st.Head, Time: time.Now().UTC(), Signer: k.ID(), Kind: kind}
	body(e)
	env, _ := proto.Sign(proto.ContextEntry, e.Marshal(), k)
	if err := a.st.Apply(env); err != nil {
		t.Fatal(err)
	}
	return env
}

func (f *fixture) create(a *acct) {
	f.t.Helper()
	body, _ := json.Marshal(proto.CreateAccount{Entries: a.log})
	code, b := f.do("POST", "/v1/accounts", body, map[string]string{proto.PoWHeader: f.powFor("account", body)})
	if code != http.StatusCreated {
		f.t.Fatalf("create account: %d %s", code, b)
	}
}

// snapshot is everything the store holds for the account, to prove a
// refused request changed nothing.
func (f *fixture) snapshot(id string) string {
	ctx := context.Background()
	head, _ := f.st.Head(ctx, id)
	u, _ := f.st.Usage(ctx, id)
	reqs, _ := f.st.Requests(ctx, id)
	var states []string
	for _, r := range reqs {
		states = append(states, r.ID+":"+r.State)
	}
	return fmt.Sprint(head, u, states)
}

func wantError(t *testing.T, name string, code int, body []byte, wantCode string) {
	t.Helper()
	if code < 400 || code >= 500 {
		t.Errorf("%s: HTTP %d, want 4xx (%s)", name, code, body)
		return
	}
	var we proto.WireError
	if err := json.Unmarshal(body, &we); err != nil || we.Error.Code == "" {
		t.Errorf("%s: body %q is not a JSON error", name, body)
		return
	}
	if wantCode != "" && we.Error.Code != wantCode {
		t.Errorf("%s: error code %q, want %q (%s)", name, we.Error.Code, wantCode, we.Error.Message)
	}
}

func TestCreateAccountAdmission(t *testing.T) {
	f := newFixture(t, Limits{})
	a := newAcct(t, "alice@example.com")
	body, _ := json.Marshal(proto.CreateAccount{Entries: a.log})
	good := f.powFor("account", body)
	tok, sol, _ := strings.Cut(good, ".")
	otherBody, _ := json.Marshal(proto.CreateAccount{Entries: newAcct(t, "bob@example.com").log})
	cases := []struct {
		name, pow, want string
		body            []byte
	}{
		{"missing", "", "pow", body},
		{"garbage", "xyz", "pow", body},
		{"wrong solution", tok + ".AAAA", "pow", body},
		{"moved to another body", good, "pow", otherBody},
		{"wrong purpose", f.powFor("connect", body), "pow", body},
		{"tampered token", flip(tok) + "." + sol, "pow", body},
	}
	for _, c := range cases {
		code, b := f.do("POST", "/v1/accounts", c.body, map[string]string{proto.PoWHeader: c.pow})
		wantError(t, c.name, code, b, c.want)
	}
	if _, err := f.st.Account(context.Background(), a.st.Account); err == nil {
		t.Fatal("an account was created by a refused request")
	}
	code, b := f.do("POST", "/v1/accounts", body, map[string]string{proto.PoWHeader: good})
	if code != http.StatusCreated {
		t.Fatalf("valid create: %d %s", code, b)
	}
	// Reused: the same proof again, even for a fresh account.
	code, b = f.do("POST", "/v1/accounts", body, map[string]string{proto.PoWHeader: good})
	wantError(t, "reused", code, b, "pow")
	// Expired.
	late := f.powFor("account", otherBody)
	f.now = f.now.Add(time.Hour)
	code, b = f.do("POST", "/v1/accounts", otherBody, map[string]string{proto.PoWHeader: late})
	wantError(t, "expired", code, b, "pow")
}

func TestBadAppendsChangeNothing(t *testing.T) {
	f := newFixture(t, Limits{MaxEntries: 5})
	a := newAcct(t, "alice@example.com")
	f.create(a)
	id := a.st.Account
	stranger, _ := proto.GenerateSigningKey()
	pub := func(e *proto.Entry) {
		e.Publish = &proto.Publish{Address: "alice@example.com", OpenPGP: []byte{1}}
	}
	trial := *a
	trial.st = a.st.Clone()
	good := trial.next(t, a.admin, proto.KindPublish, pub)
	forged := good
	forged.Payload = bytes.Replace(good.Payload, []byte("alice@"), []byte("alicf@"), 1)
	byStranger, _ := proto.Sign(proto.ContextEntry, good.Payload, stranger)
	byStranger.Payload = bytes.Replace(byStranger.Payload, []byte(a.admin.ID()), []byte(stranger.ID()), 1)
	byStranger, _ = proto.Sign(proto.ContextEntry, byStranger.Payload, stranger)
	cases := []struct {
		name string
		body string
		want string
	}{
		{"malformed json", `{"entries": [`, "bad_request"},
		{"unknown field", `{"entries": [], "x": 1}`, "bad_request"},
		{"empty batch", `{"entries": []}`, "bad_request"},
		{"bad signature", mustJSONs(proto.AppendEntries{Entries: []proto.Envelope{forged}}), "rejected"},
		{"unauthorised signer", mustJSONs(proto.AppendEntries{Entries: []proto.Envelope{byStranger}}), "rejected"},
		{"replayed old entry", mustJSONs(proto.AppendEntries{Entries: []proto.Envelope{a.log[1]}}), "conflict"},
		{"oversize", `{"entries": ["` + strings.Repeat("A", 300<<10) + `"]}`, "too_large"},
	}
	before := f.snapshot(id)
	for _, c := range cases {
		code, b := f.do("POST", "/v1/accounts/"+id+"/log", []byte(c.body), nil)
		wantError(t, c.name, code, b, c.want)
		if after := f.snapshot(id); after != before {
			t.Errorf("%s changed the store: %s → %s", c.name, before, after)
		}
	}
	// Quota: 5 entries at most; the account holds 2.
	var batch []proto.Envelope
	for range 4 {
		batch = append(batch, trial.next(t, a.admin, proto.KindPublish, pub))
	}
	all := append([]proto.Envelope{good}, batch...)
	code, b := f.do("POST", "/v1/accounts/"+id+"/log", []byte(mustJSONs(proto.AppendEntries{Entries: all})), nil)
	wantError(t, "over quota", code, b, "quota")
	if after := f.snapshot(id); after != before {
		t.Errorf("over-quota append changed the store: %s → %s", before, after)
	}
	code, b = f.do("POST", "/v1/accounts/"+id+"/log", []byte(mustJSONs(proto.AppendEntries{Entries: all[:3]})), nil)
	if code != http.StatusOK {
		t.Errorf("valid append: %d %s", code, b)
	}
}

// flip changes one character in the middle of a base64url token.
func flip(tok string) string {
	b := []byte(tok)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func mustJSONs(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestUnknownAndMalformedRoutesAreJSON4xx(t *testing.T) {
	f := newFixture(t, Limits{})
	for _, c := range []struct{ method, path string }{
		{"GET", "/nope"}, {"DELETE", "/v1/health"}, {"GET", "/v1/accounts/MXXX/log"},
		{"GET", "/v1/accounts/MXXX/log?from=-1"}, {"GET", "/v1/accounts?handle=NOT%20AN%20ADDRESS"},
		{"GET", "/v1/challenge?purpose=other"}, {"GET", "/v1/accounts/MXXX/events?wait=9999"},
		{"GET", "/v1/accounts/MXXX/blobs/MYYY"}, {"POST", "/v1/accounts/MXXX/requests/R/answer"},
		{"PUT", "/v1/accounts/MXXX/blobs/MYYY"},
	} {
		code, b := f.do(c.method, c.path, []byte("{}"), nil)
		wantError(t, c.method+" "+c.path, code, b, "")
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t, Limits{ClientRate: 1, ClientBurst: 3})
	var limited bool
	for range 10 {
		code, _ := f.do("GET", "/v1/health", nil, nil)
		limited = limited || code == http.StatusTooManyRequests
	}
	if !limited {
		t.Error("10 requests at once with a burst of 3 were all admitted")
	}
}

// Behind a trusted proxy each client gets its own bucket, named by the
// rightmost X-Forwarded-For hop that is not a proxy; without trust, or with
// a header that does not parse, the header changes nothing.
func TestClientAddrBehindProxy(t *testing.T) {
	trusted := &Server{proxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	plain := &Server{}
	for _, c := range []struct {
		srv    *Server
		remote string
		xff    []string
		want   string
	}{
		{plain, "192.0.2.1:4000", nil, "192.0.2.1"},
		{plain, "192.0.2.1:4000", []string{"198.51.100.7"}, "192.0.2.1"},
		{trusted, "192.0.2.1:4000", []string{"198.51.100.7"}, "192.0.2.1"},
		{trusted, "10.1.2.3:4000", []string{"198.51.100.7"}, "198.51.100.7"},
		{trusted, "10.1.2.3:4000", []string{"203.0.113.9, 198.51.100.7"}, "198.51.100.7"},
		{trusted, "10.1.2.3:4000", []string{"203.0.113.9", "198.51.100.7, 10.9.9.9"}, "198.51.100.7"},
		{trusted, "10.1.2.3:4000", []string{"198.51.100.7, not-an-ip"}, "10.1.2.3"},
		{trusted, "10.1.2.3:4000", []string{"10.4.4.4"}, "10.1.2.3"},
		{trusted, "10.1.2.3:4000", nil, "10.1.2.3"},
		{trusted, "[::1]:4000", []string{"2001:db8:1:2:aaaa::1"}, "2001:db8:1:2::/64"},
		{plain, "[2001:db8:1:2:bbbb::7]:4000", nil, "2001:db8:1:2::/64"},
		{plain, "[::ffff:192.0.2.5]:4000", nil, "192.0.2.5"},
	} {
		r := httptest.NewRequest("GET", "/v1/health", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := c.srv.clientAddr(r); got != c.want {
			t.Errorf("client of %s with X-Forwarded-For %q (trusted proxies %v): got %q, want %q",
				c.remote, c.xff, c.srv.proxies, got, c.want)
		}
	}
}

// Through a trusted proxy (here the loopback test client itself), two
// clients each have their own burst; a client cannot escape its bucket by
// prepending addresses.
func TestRateLimitPerForwardedClient(t *testing.T) {
	f := newFixture(t, Limits{ClientRate: 0.001, ClientBurst: 3})
	f.srv.proxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	for i := range 3 {
		for _, client := range []string{"198.51.100.1", "198.51.100.2"} {
			xff := fmt.Sprintf("203.0.113.%d, %s", i, client)
			if code, b := f.do("GET", "/v1/health", nil, map[string]string{"X-Forwarded-For": xff}); code != 200 {
				t.Fatalf("request %d from %s: %d %s", i, client, code, b)
			}
		}
	}
	code, _ := f.do("GET", "/v1/health", nil, map[string]string{"X-Forwarded-For": "192.0.2.99, 198.51.100.1"})
	if code != http.StatusTooManyRequests {
		t.Errorf("4th request from 198.51.100.1 with a forged first hop: got %d, want 429", code)
	}
}

func TestLongPollWakesOnAppend(t *testing.T) {
	f := newFixture(t, Limits{})
	a := newAcct(t, "alice@example.com")
	f.create(a)
	id := a.st.Account
	got := make(chan proto.Events, 1)
	go func() {
		_, b := f.do("GET", fmt.Sprintf("/v1/accounts/%s/events?after=1&rev=0&wait=30", id), nil, nil)
		var ev proto.Events
		json.Unmarshal(b, &ev)
		got <- ev
	}()
	time.Sleep(100 * time.Millisecond)
	env := a.next(t, a.admin, proto.KindPublish, func(e *proto.Entry) {
		e.Publish = &proto.Publish{Address: "alice@example.com", OpenPGP: []byte{1}}
	})
	start := time.Now()
	code, b := f.do("POST", "/v1/accounts/"+id+"/log", []byte(mustJSONs(proto.AppendEntries{Entries: []proto.Envelope{env}})), nil)
	if code != 200 {
		t.Fatalf("append: %d %s", code, b)
	}
	select {
	case ev := <-got:
		if ev.Head != 2 {
			t.Errorf("event head %d, want 2", ev.Head)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("long poll woke %s after the append", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("long poll did not wake on append")
	}
}
