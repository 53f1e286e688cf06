package agent

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/endymail/endymail/mesh/proto"
)

// Each test runs the real service behind a wrapper that lies in one way, and
// checks the device detects it with an error naming the problem.

func isLog(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/log")
}

// rewriteLog applies f to every log page the service sends.
func rewriteLog(f func(p *proto.LogPage)) tamper {
	return func(r *http.Request, status int, body []byte) []byte {
		if !isLog(r) || status != http.StatusOK {
			return body
		}
		var p proto.LogPage
		if err := json.Unmarshal(body, &p); err != nil {
			return body
		}
		f(&p)
		out, _ := json.Marshal(p)
		return out
	}
}

// grow adds a device-less entry to the log so there is history to tamper
// with: A publishes two bundle versions.
func grow(t *testing.T, a *Agent) {
	for range 2 {
		if _, err := a.PutBundle(ctxT(t), "mail", []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHostileLogRejected(t *testing.T) {
	cases := []struct {
		name string
		edit func(p *proto.LogPage)
		want error
	}{
		{"dropped entry", func(p *proto.LogPage) {
			if len(p.Entries) > 3 {
				p.Entries = append(p.Entries[:2:2], p.Entries[3:]...)
			}
		}, proto.ErrSequence},
		{"reordered entries", func(p *proto.LogPage) {
			if n := len(p.Entries); n > 3 {
				p.Entries[n-1], p.Entries[n-2] = p.Entries[n-2], p.Entries[n-1]
			}
		}, proto.ErrSequence},
		{"forged entry", func(p *proto.LogPage) {
			if n := len(p.Entries); n > 3 {
				e := p.Entries[n-1]
				e.Payload = []byte(strings.Replace(string(e.Payload), `"version":3`, `"version":9`, 1))
				p.Entries[n-1] = e
			}
		}, proto.ErrBadSignature},
		{"entries claimed but withheld", func(p *proto.LogPage) {
			p.Head += 5
		}, proto.ErrSequence},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url, h := startMesh(t)
			a := newAccount(t, url)
			// Device C (fresh, like a new device) reads the whole log through the lie.
			grow(t, a)
			h.set(rewriteLog(c.edit))
			_, err := openAgent(t).Connect(ctxT(t), ConnectOptions{Address: alice, Mesh: url, DeviceName: "c", Timeout: 20 * time.Second}, func(string) { t.Error("code shown for a log that does not verify") })
			if !errors.Is(err, c.want) {
				t.Errorf("fresh device: got %v, want %v", err, c.want)
			}
		})
	}
}

func TestRollbackAndForkDetected(t *testing.T) {
	url, h := startMesh(t)
	a := newAccount(t, url)
	grow(t, a)
	h.set(rewriteLog(func(p *proto.LogPage) {
		// Pretend the log ends two entries earlier.
		p.Head -= 2
		p.Entries = p.Entries[:0]
	}))
	if _, err := a.Devices(ctxT(t)); !errors.Is(err, proto.ErrRollback) {
		t.Errorf("rolled-back log: got %v, want ErrRollback", err)
	}
	h.set(rewriteLog(func(p *proto.LogPage) {
		// Show different bytes for the entry A already verified.
		if len(p.Entries) > 0 {
			p.Entries[0].Payload = append([]byte(" "), p.Entries[0].Payload...)
		}
	}))
	if _, err := a.Devices(ctxT(t)); !errors.Is(err, proto.ErrFork) {
		t.Errorf("forked log: got %v, want ErrFork", err)
	}
	h.set(nil)
	if _, err := a.Devices(ctxT(t)); err != nil {
		t.Errorf("honest service again: %v", err)
	}
}

// A service that swaps the new device's keys for its own changes the code:
// the admin's code for the request is not the one the device shows, and
// approving by the device's code finds nothing.
func TestKeySwapChangesCode(t *testing.T) {
	url, h := startMesh(t)
	a := newAccount(t, url)
	mallory := openAgent(t)
	mk, err := mallory.deviceKeys("phone")
	if err != nil {
		t.Fatal(err)
	}
	h.set(func(r *http.Request, status int, body []byte) []byte {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/requests") {
			return body
		}
		var l proto.RequestList
		json.Unmarshal(body, &l)
		for i, ri := range l.Requests {
			req, err := proto.ParseConnectRequest(ri.Request)
			if err != nil {
				continue
			}
			req.Device = mk.Profile() // same name, the attacker's keys
			l.Requests[i].Request, _ = mk.Sign(proto.ContextConnect, mustJSON(req))
		}
		out, _ := json.Marshal(l)
		return out
	})
	b := openAgent(t)
	c := startConnect(t, b, url, "phone")
	code := c.waitCode(t)
	reqs, err := a.Pending(ctxT(t))
	if err != nil || len(reqs) != 1 {
		t.Fatalf("pending: %v, %v", reqs, err)
	}
	if reqs[0].Code == code {
		t.Fatalf("admin shows the device's code %s although the keys were swapped", code)
	}
	if _, err := a.Approve(ctxT(t), ApproveOptions{Code: code}); !errors.Is(err, ErrNoMatch) {
		t.Errorf("approve with the device's code: got %v, want ErrNoMatch", err)
	}
	devs, _ := a.Devices(ctxT(t))
	if len(devs) != 1 {
		t.Errorf("account has %d devices after the refused approval, want 1", len(devs))
	}
}

// A service that tells a new device "approved" by replaying an old approval
// is caught: the log holds no device-add for this request and these keys.
func TestReplayedApprovalRejected(t *testing.T) {
	url, h := startMesh(t)
	a := newAccount(t, url)
	b := openAgent(t)
	cb := startConnect(t, b, url, "phone")
	if _, err := a.Approve(ctxT(t), ApproveOptions{Code: cb.waitCode(t)}); err != nil {
		t.Fatal(err)
	}
	if d := cb.wait(t); d.err != nil {
		t.Fatal(d.err)
	}
	var old []byte
	h.set(func(r *http.Request, status int, body []byte) []byte {
		if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/requests/") {
			return body
		}
		var ri proto.RequestInfo
		json.Unmarshal(body, &ri)
		if ri.State == proto.StateApproved && old == nil {
			old = body
		}
		if ri.State == proto.StatePending && old != nil {
			var o proto.RequestInfo
			json.Unmarshal(old, &o)
			ri.State, ri.Answer = o.State, o.Answer
			out, _ := json.Marshal(ri)
			return out
		}
		return body
	})
	// Fetch B's answered request once, so the hook holds an old approval.
	s, err := b.open()
	if err != nil {
		t.Fatal(err)
	}
	ri, err := s.mesh.Request(ctxT(t), s.st.Account, s.st.Devices[mustID(t, b)].Request.ID, 0)
	if err != nil || ri.State != proto.StateApproved || old == nil {
		t.Fatalf("capturing the old approval: %v %v", ri.State, err)
	}
	h.mu.Lock()
	h.pre = func(r *http.Request) { // answer at once instead of holding the poll
		if strings.Contains(r.URL.Path, "/requests/") {
			r.URL.RawQuery = ""
		}
	}
	h.mu.Unlock()
	c := openAgent(t)
	_, err = c.Connect(ctxT(t), ConnectOptions{Address: alice, Mesh: url, DeviceName: "tablet", Timeout: 20 * time.Second}, func(string) {})
	if !errors.Is(err, proto.ErrRejected) {
		t.Errorf("replayed approval: got %v, want ErrRejected", err)
	}
}

func mustID(t *testing.T, a *Agent) string {
	k, err := a.home.Keys()
	if err != nil {
		t.Fatal(err)
	}
	return k.ID()
}

// A service that serves another bundle (an older version, or one wrapped to
// another device) is caught by the digest the signed log names.
func TestWrongBundleRejected(t *testing.T) {
	url, h := startMesh(t)
	a := newAccount(t, url)
	s, err := a.open()
	if err != nil {
		t.Fatal(err)
	}
	first := s.st.Bundles["mail"].Digest
	if _, err := a.PutBundle(ctxT(t), "mail", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	var firstBlob []byte
	h.set(func(r *http.Request, status int, body []byte) []byte {
		if strings.HasSuffix(r.URL.Path, first) {
			firstBlob = body
		}
		if strings.Contains(r.URL.Path, "/blobs/") && firstBlob != nil {
			return firstBlob
		}
		return body
	})
	if _, err := s.mesh.Blob(ctxT(t), s.st.Account, first); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GetBundle(ctxT(t), "mail"); !errors.Is(err, proto.ErrBundleMismatch) {
		t.Errorf("old bundle served as new: got %v, want ErrBundleMismatch", err)
	}
}
