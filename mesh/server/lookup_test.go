package server

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/endymail/endymail/mesh/proto"
)

// get sends a GET with an explicit Host header and returns status, headers
// and body.
func (f *fixture) get(host, path string) (int, http.Header, []byte) {
	f.t.Helper()
	req, err := http.NewRequest("GET", f.ts.URL+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// publish appends a publish (or, with key nil, unpublish) entry for addr.
func (f *fixture) publish(a *acct, addr string, key []byte) {
	f.t.Helper()
	var env proto.Envelope
	if key == nil {
		env = a.next(f.t, a.admin, proto.KindUnpublish, func(e *proto.Entry) { e.Unpublish = &proto.Unpublish{Address: addr} })
	} else {
		env = a.next(f.t, a.admin, proto.KindPublish, func(e *proto.Entry) {
			e.Publish = &proto.Publish{Address: addr, OpenPGP: key}
		})
	}
	a.log = append(a.log, env)
	code, b := f.do("POST", "/v1/accounts/"+a.st.Account+"/log", []byte(mustJSONs(proto.AppendEntries{Entries: []proto.Envelope{env}})), nil)
	if code != http.StatusOK {
		f.t.Fatalf("append: %d %s", code, b)
	}
}

func TestLookupAnswersTheVerifiableLog(t *testing.T) {
	f := newFixture(t, Limits{})
	a := newAcct(t, "alice@example.com")
	f.create(a)
	f.publish(a, "alice@example.com", []byte("key one"))
	for round, want := range []string{"key one", "key two"} {
		if round == 1 {
			f.publish(a, "alice@example.com", []byte("key two"))
		}
		code, hdr, b := f.get("", "/v1/lookup?addr=Alice@Example.COM")
		if code != http.StatusOK {
			t.Fatalf("lookup: %d %s", code, b)
		}
		if cc := hdr.Get("Cache-Control"); cc != lookupMaxAge {
			t.Errorf("Cache-Control %q, want %q", cc, lookupMaxAge)
		}
		var l proto.Lookup
		if err := proto.Unmarshal(b, &l); err != nil {
			t.Fatal(err)
		}
		st, err := proto.Replay(l.Log)
		if err != nil {
			t.Fatalf("the log a sender gets does not verify: %v", err)
		}
		p := st.Published["alice@example.com"]
		if l.Account != a.st.Account || st.Account != a.st.Account || p == nil || string(p.OpenPGP) != want {
			t.Errorf("round %d: account %s (state %s), publication %+v; want %s publishing %q", round, l.Account, st.Account, p, a.st.Account, want)
		}
		if st.Seq != a.st.Seq {
			t.Errorf("round %d: log up to %d, want the head %d", round, st.Seq, a.st.Seq)
		}
	}
	f.publish(a, "alice@example.com", nil)
	code, _, b := f.get("", "/v1/lookup?addr=alice@example.com")
	wantError(t, "after unpublish", code, b, "not_found")
	for _, q := range []string{"", "?addr=", "?addr=not%20an%20address", "?addr=%ff%fe@x", "?addr=bob@example.com"} {
		code, _, b := f.get("", "/v1/lookup"+q)
		wantError(t, "lookup"+q, code, b, "")
	}
}

func TestLookupOfAddressPublishedByTwoAccountsFollowsTheIndex(t *testing.T) {
	f := newFixture(t, Limits{})
	a, m := newAcct(t, "alice@example.com"), newAcct(t, "mallory@example.com")
	f.create(a)
	f.create(m)
	f.publish(a, "alice@example.com", []byte("alice's key"))
	// Mallory's log may say anything; the index keeps the first publisher.
	f.publish(m, "alice@example.com", []byte("mallory's key"))
	code, _, b := f.get("", "/v1/lookup?addr=alice@example.com")
	var l proto.Lookup
	if code != http.StatusOK || json.Unmarshal(b, &l) != nil {
		t.Fatalf("lookup: %d %s", code, b)
	}
	if l.Account != a.st.Account {
		t.Errorf("lookup names account %s, want the first publisher %s", l.Account, a.st.Account)
	}
	st, err := proto.Replay(l.Log)
	if err != nil || string(st.Published["alice@example.com"].OpenPGP) != "alice's key" {
		t.Errorf("lookup log: %v; want alice's own publication", err)
	}
}
