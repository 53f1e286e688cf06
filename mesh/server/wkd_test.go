package server

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/endymail/endymail/mesh/proto"
)

// TestWKDHashVector checks the example of draft-koch-openpgp-webkey-service
// (section 3.1): "Joe.Doe@Example.ORG" is found at
// https://example.org/.well-known/openpgpkey/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe
func TestWKDHashVector(t *testing.T) {
	if got, want := proto.WKDHash("Joe.Doe"), "iy9q119eutrkn8s1mk4r39qejnbu3n5q"; got != want {
		t.Errorf("WKDHash(Joe.Doe) = %s, want %s", got, want)
	}
}

func newWKDFixture(t testing.TB) (*fixture, *acct) {
	f := newFixture(t, Limits{})
	if err := f.srv.initPublic([]string{"Example.com"}); err != nil {
		t.Fatal(err)
	}
	a := newAcct(t, "alice@example.com")
	f.create(a)
	f.publish(a, "alice@example.com", []byte("alice key 1"))
	return f, a
}

func TestWKDServesTheVerifiedKey(t *testing.T) {
	f, a := newWKDFixture(t)
	h := proto.WKDHash("alice")
	direct := "/.well-known/openpgpkey/hu/" + h + "?l=alice"
	advanced := "/.well-known/openpgpkey/example.com/hu/" + h + "?l=alice"
	for round, want := range []string{"alice key 1", "alice key 2"} {
		if round == 1 {
			f.publish(a, "alice@example.com", []byte(want)) // rotation: WKD follows the log
		}
		for _, c := range []struct{ host, path string }{
			{"example.com", direct}, {"EXAMPLE.com:443", direct}, {"openpgpkey.example.com", advanced}, {"proxy.internal", advanced},
		} {
			code, hdr, b := f.get(c.host, c.path)
			if code != http.StatusOK || string(b) != want {
				t.Errorf("round %d: %s%s: %d %q, want 200 %q", round, c.host, c.path, code, b, want)
				continue
			}
			if ct := hdr.Get("Content-Type"); ct != "application/octet-stream" {
				t.Errorf("%s: Content-Type %q", c.path, ct)
			}
			if cc := hdr.Get("Cache-Control"); cc != lookupMaxAge {
				t.Errorf("%s: Cache-Control %q", c.path, cc)
			}
		}
	}
	for _, c := range []struct{ host, path string }{
		{"example.com", "/.well-known/openpgpkey/policy"},
		{"openpgpkey.example.com", "/.well-known/openpgpkey/example.com/policy"},
	} {
		code, hdr, b := f.get(c.host, c.path)
		if code != http.StatusOK || len(b) != 0 || hdr.Get("Cache-Control") != wkdPolicyMaxAge {
			t.Errorf("policy %s%s: %d %q %q, want 200, empty, cacheable", c.host, c.path, code, b, hdr.Get("Cache-Control"))
		}
	}
	f.publish(a, "alice@example.com", nil)
	if code, _, b := f.get("example.com", direct); code != http.StatusNotFound {
		t.Errorf("after unpublish: %d %q, want 404", code, b)
	}
}

func TestWKDRefusesWhatItDoesNotServe(t *testing.T) {
	f, _ := newWKDFixture(t)
	h := proto.WKDHash("alice")
	for _, c := range []struct{ name, host, path string }{
		{"domain not served (direct)", "other.org", "/.well-known/openpgpkey/hu/" + h + "?l=alice"},
		{"domain not served (advanced)", "openpgpkey.other.org", "/.well-known/openpgpkey/other.org/hu/" + h + "?l=alice"},
		{"policy of other domain", "other.org", "/.well-known/openpgpkey/policy"},
		{"no l=", "example.com", "/.well-known/openpgpkey/hu/" + h},
		{"l= not matching the hash", "example.com", "/.well-known/openpgpkey/hu/" + h + "?l=bob"},
		{"unpublished address", "example.com", "/.well-known/openpgpkey/hu/" + proto.WKDHash("bob") + "?l=bob"},
		{"deep path", "example.com", "/.well-known/openpgpkey/a/b/c/d"},
		{"bare prefix", "example.com", "/.well-known/openpgpkey/"},
		{"bad local part", "example.com", "/.well-known/openpgpkey/hu/" + proto.WKDHash("a b") + "?l=" + url.QueryEscape("a b")},
		{"binary garbage", "example.com", "/.well-known/openpgpkey/%ff%00/hu/x?l=%ff"},
	} {
		code, _, b := f.get(c.host, c.path)
		if code != http.StatusNotFound && code != http.StatusBadRequest {
			t.Errorf("%s: %d %q, want 404", c.name, code, b)
		}
	}
	// Without configured domains nothing is served.
	g := newFixture(t, Limits{})
	a := newAcct(t, "alice@example.com")
	g.create(a)
	g.publish(a, "alice@example.com", []byte("k"))
	if code, _, _ := g.get("example.com", "/.well-known/openpgpkey/hu/"+h+"?l=alice"); code != http.StatusNotFound {
		t.Errorf("service without --wkd-domain: %d, want 404", code)
	}
	if _, err := New(Config{Store: g.st, WKDDomains: []string{"a/b"}}); err == nil {
		t.Error("New accepted the WKD domain \"a/b\"")
	}
}

// FuzzWKD throws arbitrary hosts, paths and queries at the WKD and lookup
// routes: never a 5xx, and a 200 only with a key or a policy.
func FuzzWKD(f *testing.F) {
	h := proto.WKDHash("alice")
	f.Add("example.com", "/.well-known/openpgpkey/hu/"+h, "l=alice")
	f.Add("openpgpkey.example.com", "/.well-known/openpgpkey/example.com/hu/"+h, "l=alice")
	f.Add("example.com", "/.well-known/openpgpkey/policy", "")
	f.Add("x", "/v1/lookup", "addr=alice@example.com")
	f.Add("x", "/v1/lookup", "addr=%00")
	fx, _ := newWKDFixture(f)
	f.Fuzz(func(t *testing.T, host, path, query string) {
		req := httptest.NewRequest("GET", "http://x/", nil)
		req.Host, req.URL.Path, req.URL.RawQuery = host, path, query
		rec := httptest.NewRecorder()
		fx.srv.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s?%s: HTTP %d %s", host, path, query, rec.Code, rec.Body)
		}
	})
}
