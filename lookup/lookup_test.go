package lookup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/endymail/endymail/mesh/proto"
)

const alice = "alice@example.com"

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func isWKD(r *http.Request) bool  { return strings.HasPrefix(r.URL.Path, "/.well-known/openpgpkey/") }
func isMesh(r *http.Request) bool { return r.URL.Path == "/v1/lookup" }

// TestWKDURLs checks the layout against the draft's example (section 3.1).
func TestWKDURLs(t *testing.T) {
	adv, direct, err := WKDURLs("Joe.Doe@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://openpgpkey.example.org/.well-known/openpgpkey/example.org/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe"; adv != want {
		t.Errorf("advanced: got %s, want %s", adv, want)
	}
	if want := "https://example.org/.well-known/openpgpkey/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe"; direct != want {
		t.Errorf("direct: got %s, want %s", direct, want)
	}
}

func TestChainOrder(t *testing.T) {
	w := newWorld(t)
	a := w.newAccount(alice)
	k1, fpr := pgpKey(t, alice, w.now, 0)
	w.publish(a, alice, k1, smimeChain(t, alice))

	o, err := w.resolver(t.TempDir(), true, true, "").Lookup(ctxT(t), "Alice@Example.com")
	if err != nil {
		t.Fatal(err)
	}
	if o.Key.Source != SourceMesh || o.Key.Fingerprint != fpr || o.Key.Account != a.st.Account || o.Key.SMIMEFingerprint == "" {
		t.Errorf("mesh: got %s %s account %s smime %q; want mesh %s %s with S/MIME", o.Key.Source, o.Key.Fingerprint, o.Key.Account, o.Key.SMIMEFingerprint, fpr, a.st.Account)
	}
	o, err = w.resolver(t.TempDir(), false, true, "").Lookup(ctxT(t), alice)
	if err != nil || o.Key.Source != SourceWKDAdvanced || o.Key.Fingerprint != fpr {
		t.Fatalf("without mesh: got %+v, %v; want wkd-advanced %s", o, err, fpr)
	}
	w.hook.set(func(r *http.Request, status int, body []byte) (int, []byte) {
		if r.Host == "openpgpkey.example.com" {
			return http.StatusNotFound, nil
		}
		return status, body
	})
	o, err = w.resolver(t.TempDir(), false, true, "").Lookup(ctxT(t), alice)
	if err != nil || o.Key.Source != SourceWKDDirect || !strings.HasPrefix(o.Key.URL, "https://example.com/.well-known/openpgpkey/hu/") {
		t.Fatalf("advanced missing: got %+v, %v; want wkd-direct", o.Key, err)
	}
	w.hook.set(func(r *http.Request, status int, body []byte) (int, []byte) {
		if r.URL.EscapedPath() == "/vks/v1/by-email/alice@example.com" && r.Host == "keys.example.net" {
			return http.StatusOK, k1
		}
		return status, body
	})
	o, err = w.resolver(t.TempDir(), false, false, "https://keys.example.net").Lookup(ctxT(t), alice)
	if err != nil || o.Key.Source != SourceVKS || o.Key.Fingerprint != fpr {
		t.Fatalf("keyserver: got %+v, %v; want vks %s", o, err, fpr)
	}
}

// hostileCase rewrites the mesh's and the WKD's answers.
type hostileCase struct {
	name       string
	mesh, wkd  func(status int, body []byte) (int, []byte)
	slow       bool
	wantReason error // every rejection wraps it; nil: no rejection expected
	heldBack   bool  // a different, well-formed key: recorded and not adopted
}

func TestHostileSourcesChangeNothing(t *testing.T) {
	w := newWorld(t)
	a := w.newAccount(alice)
	k1, fpr1 := pgpKey(t, alice, w.now, 0)
	w.publish(a, alice, k1, nil)
	k2, _ := pgpKey(t, alice, w.now, 0) // an attacker's key with alice's user ID
	bobKey, _ := pgpKey(t, "bob@example.com", w.now, 0)
	expired, _ := pgpKey(t, alice, w.now.Add(-48*time.Hour), 24*time.Hour)
	mallory := localAccount(t, "mallory@example.com")
	mallory.add(t, mallory.admin, proto.KindPublish, func(e *proto.Entry) { e.Publish = &proto.Publish{Address: alice, OpenPGP: k2} })
	malloryLog, _ := json.Marshal(proto.Lookup{Address: alice, Account: mallory.st.Account, Log: mallory.log})
	mallory2 := localAccount(t, "mallory@example.com")
	mallory2.add(t, mallory2.admin, proto.KindPublish, func(e *proto.Entry) { e.Publish = &proto.Publish{Address: alice, OpenPGP: bobKey} })
	wrongUID, _ := json.Marshal(proto.Lookup{Address: alice, Account: mallory2.st.Account, Log: mallory2.log})
	give := func(b []byte) func(int, []byte) (int, []byte) {
		return func(int, []byte) (int, []byte) { return 200, b }
	}
	notFound := func(int, []byte) (int, []byte) { return 404, []byte(`{"error":{"code":"not_found","message":"no"}}`) }

	cases := []hostileCase{
		{name: "wrong user ID", mesh: give(wrongUID), wkd: give(bobKey), wantReason: ErrWrongUserID},
		{name: "swapped key in a signed entry", mesh: func(s int, b []byte) (int, []byte) { return s, swapPublished(t, b, k2) }, wkd: notFound, wantReason: ErrUnverified},
		{name: "swapped key on WKD", mesh: notFound, wkd: give(k2), heldBack: true},
		{name: "another account claims the address", mesh: give(malloryLog), wkd: notFound, heldBack: true},
		{name: "tampered log", mesh: func(s int, b []byte) (int, []byte) { return s, dropEntry(t, b, 1) }, wkd: notFound, wantReason: ErrUnverified},
		{name: "malformed", mesh: give([]byte(`{"address":"alice@example.com","account":"x","log":[]}`)), wkd: give(bytes.Repeat([]byte{0x99}, 100)), wantReason: nil},
		{name: "expired key", mesh: notFound, wkd: give(expired), wantReason: ErrExpired},
		{name: "huge", mesh: give(bytes.Repeat([]byte(" "), 5<<20)), wkd: give(bytes.Repeat([]byte{0x99}, DefaultMaxSize+1)), wantReason: nil},
		{name: "slow", mesh: notFound, wkd: nil, slow: true, wantReason: ErrTimeout},
	}
	dir := t.TempDir()
	r := w.resolver(dir, true, true, "")
	if o, err := r.Lookup(ctxT(t), alice); err != nil || o.Key.Fingerprint != fpr1 {
		t.Fatalf("first lookup: %+v %v", o, err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w.hook.set(func(r *http.Request, status int, body []byte) (int, []byte) {
				switch {
				case c.slow && (isMesh(r) || isWKD(r)):
					time.Sleep(time.Second)
				case isMesh(r) && c.mesh != nil:
					return c.mesh(status, body)
				case isWKD(r) && c.wkd != nil:
					return c.wkd(status, body)
				}
				return status, body
			})
			defer w.hook.set(nil)
			o, err := r.Fetch(ctxT(t), alice)
			if err != nil || o.Key == nil || o.Key.Fingerprint != fpr1 {
				t.Fatalf("got %+v, %v; want the old key %s kept", o, err, fpr1)
			}
			for _, rej := range o.Rejected {
				t.Logf("rejected from %s: %s", rej.Source, rej.Reason)
			}
			if o.Change != nil {
				t.Logf("change: %+v", *o.Change)
			}
			checkHostile(t, c, o)
			k, err := r.Known(alice)
			if err != nil || k.Current.Fingerprint != fpr1 {
				t.Fatalf("cache holds %+v, %v; want the old key", k, err)
			}
			for _, ch := range k.Changes {
				if ch.Adopted {
					t.Errorf("change adopted: %+v", ch)
				}
			}
		})
	}
}

func checkHostile(t *testing.T, c hostileCase, o *Outcome) {
	t.Helper()
	if c.heldBack {
		if o.Change == nil || o.Change.Adopted {
			t.Errorf("change %+v, want a recorded, held-back change", o.Change)
		}
		return
	}
	if o.Change != nil {
		t.Errorf("unexpected change %+v", o.Change)
	}
	if len(o.Rejected) == 0 {
		t.Fatal("nothing rejected, want a rejection with a reason")
	}
	for _, rej := range o.Rejected {
		if c.wantReason != nil && !strings.Contains(rej.Reason, c.wantReason.Error()) {
			t.Errorf("rejection from %s: %q, want it to say %q", rej.Source, rej.Reason, c.wantReason)
		}
	}
}

// swapPublished replaces the OpenPGP key of every publish entry in a lookup
// answer, keeping the (now wrong) signatures.
func swapPublished(t *testing.T, body, key []byte) []byte {
	var l proto.Lookup
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatal(err)
	}
	for i, env := range l.Log {
		e, err := proto.ParseEntry(env.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if e.Publish != nil {
			e.Publish.OpenPGP = key
			l.Log[i].Payload = e.Marshal()
		}
	}
	b, _ := json.Marshal(l)
	return b
}

// dropEntry removes entry i of the log in a lookup answer.
func dropEntry(t *testing.T, body []byte, i int) []byte {
	var l proto.Lookup
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatal(err)
	}
	l.Log = append(l.Log[:i], l.Log[i+1:]...)
	b, _ := json.Marshal(l)
	return b
}

func TestCachingAndRotation(t *testing.T) {
	w := newWorld(t)
	a := w.newAccount(alice)
	k1, fpr1 := pgpKey(t, alice, w.now, 0)
	w.publish(a, alice, k1, nil)
	dir := t.TempDir()
	r := w.resolver(dir, true, true, "")

	// Negative caching: nobody is asked twice within the negative TTL.
	if _, err := r.Lookup(ctxT(t), "nobody@example.com"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown address: got %v, want ErrNotFound", err)
	}
	hits := w.hook.count()
	if o, err := r.Lookup(ctxT(t), "nobody@example.com"); !errors.Is(err, ErrNotFound) || !o.Cached || w.hook.count() != hits {
		t.Errorf("second lookup: cached %v, %d requests, %v; want a cached ErrNotFound, no request", o.Cached, w.hook.count()-hits, err)
	}
	w.now = w.now.Add(DefaultNegativeTTL + time.Minute)
	r.Lookup(ctxT(t), "nobody@example.com")
	if w.hook.count() == hits {
		t.Error("negative answer not asked again after its TTL")
	}

	if o, err := r.Lookup(ctxT(t), alice); err != nil || o.Key.Fingerprint != fpr1 {
		t.Fatalf("lookup: %+v %v", o, err)
	}
	k3, fpr3 := pgpKey(t, alice, w.now, 0)
	w.publish(a, alice, k3, nil) // rotation in alice's own signed log
	if o, _ := r.Lookup(ctxT(t), alice); !o.Cached || o.Key.Fingerprint != fpr1 {
		t.Errorf("within the TTL: cached %v key %s, want the cached %s", o.Cached, o.Key.Fingerprint, fpr1)
	}
	w.now = w.now.Add(DefaultTTL + time.Minute)
	o, err := r.Lookup(ctxT(t), alice)
	if err != nil || o.Key.Fingerprint != fpr3 || o.Change == nil || !o.Change.Adopted {
		t.Fatalf("after rotation: key %+v change %+v %v; want %s adopted as a recorded change", o.Key, o.Change, err, fpr3)
	}
	k, _ := r.Known(alice)
	if len(k.Changes) != 1 || !strings.HasPrefix(k.Changes[0].Old, fpr1) || !strings.HasPrefix(k.Changes[0].New, fpr3) {
		t.Errorf("history %+v, want one change %s → %s", k.Changes, fpr1, fpr3)
	}
	fi, err := os.Stat(filepath.Join(dir, CacheFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file: %v %v, want mode 0600", fi.Mode(), err)
	}
}

func TestAcceptHeldBackKey(t *testing.T) {
	w := newWorld(t)
	a := w.newAccount(alice)
	k1, _ := pgpKey(t, alice, w.now, 0)
	w.publish(a, alice, k1, nil)
	r := w.resolver(t.TempDir(), false, true, "")
	if _, err := r.Lookup(ctxT(t), alice); err != nil {
		t.Fatal(err)
	}
	k2, fpr2 := pgpKey(t, alice, w.now, 0)
	w.hook.set(func(r *http.Request, s int, b []byte) (int, []byte) { return 200, k2 })
	if o, err := r.Fetch(ctxT(t), alice); err != nil || o.Change == nil || o.Change.Adopted {
		t.Fatalf("changed WKD key: %+v %v, want a held-back change", o, err)
	}
	if _, err := r.Accept(alice, "0000"); !errors.Is(err, ErrNoPending) {
		t.Errorf("accept of an unknown fingerprint: %v, want ErrNoPending", err)
	}
	k, err := r.Accept(alice, fpr2)
	if err != nil || k.Current.Fingerprint != fpr2 || k.Pending != nil {
		t.Fatalf("accept: %+v %v", k, err)
	}
	if last := k.Changes[len(k.Changes)-1]; !last.Adopted || last.Reason != "accepted by the user" {
		t.Errorf("last change %+v, want the user's acceptance", last)
	}
}

func TestMeshRollbackAndForkRefused(t *testing.T) {
	w := newWorld(t)
	a := w.newAccount(alice)
	k1, _ := pgpKey(t, alice, w.now, 0)
	w.publish(a, alice, k1, nil)
	var old []byte
	w.hook.set(func(r *http.Request, s int, b []byte) (int, []byte) {
		if isMesh(r) {
			old = bytes.Clone(b)
		}
		return s, b
	})
	r := w.resolver(t.TempDir(), true, false, "")
	if _, err := r.Lookup(ctxT(t), alice); err != nil || old == nil {
		t.Fatal(err)
	}
	// A fork: the same account's admin signs a different entry 3 that the
	// service shows this sender only (the real log goes on differently).
	fork := *a
	fork.log = append([]proto.Envelope(nil), a.log...)
	fork.st = a.st.Clone()
	k2, _ := pgpKey(t, alice, w.now, 0)
	fork.add(t, a.admin, proto.KindPublish, func(e *proto.Entry) { e.Publish = &proto.Publish{Address: alice, OpenPGP: k2} })
	forked, _ := json.Marshal(proto.Lookup{Address: alice, Account: a.st.Account, Log: fork.log})
	k3, fpr3 := pgpKey(t, alice, w.now, 0)
	w.publish(a, alice, k3, nil)
	w.hook.set(nil)
	if o, err := r.Fetch(ctxT(t), alice); err != nil || o.Key.Fingerprint != fpr3 {
		t.Fatalf("rotation: %+v %v", o, err)
	}
	for _, c := range []struct {
		name, want string
		body       []byte
	}{{"rollback", "rollback", old}, {"fork", "fork", forked}} {
		w.hook.set(func(r *http.Request, s int, b []byte) (int, []byte) { return 200, c.body })
		o, err := r.Fetch(ctxT(t), alice)
		if err != nil || o.Key.Fingerprint != fpr3 || len(o.Rejected) != 1 || !strings.Contains(o.Rejected[0].Reason, c.want) {
			t.Errorf("%s: %+v %v; want %s kept and a rejection naming the %s", c.name, o, err, fpr3, c.want)
		}
	}
}

// TestCopiedKeyGivesNoRotationRights: another account that publishes alice's
// very key (it is public) is not bound to alice's address, so its later
// "rotation" is held back, not adopted.
func TestCopiedKeyGivesNoRotationRights(t *testing.T) {
	w := newWorld(t)
	a := w.newAccount(alice)
	k1, fpr1 := pgpKey(t, alice, w.now, 0)
	w.publish(a, alice, k1, nil)
	r := w.resolver(t.TempDir(), true, false, "")
	if _, err := r.Lookup(ctxT(t), alice); err != nil {
		t.Fatal(err)
	}
	m := localAccount(t, "mallory@example.com")
	m.add(t, m.admin, proto.KindPublish, func(e *proto.Entry) { e.Publish = &proto.Publish{Address: alice, OpenPGP: k1} })
	copied, _ := json.Marshal(proto.Lookup{Address: alice, Account: m.st.Account, Log: m.log})
	k2, _ := pgpKey(t, alice, w.now, 0)
	m.add(t, m.admin, proto.KindPublish, func(e *proto.Entry) { e.Publish = &proto.Publish{Address: alice, OpenPGP: k2} })
	rotated, _ := json.Marshal(proto.Lookup{Address: alice, Account: m.st.Account, Log: m.log})
	for i, body := range [][]byte{copied, rotated} {
		w.hook.set(func(r *http.Request, s int, b []byte) (int, []byte) { return 200, body })
		o, err := r.Fetch(ctxT(t), alice)
		if err != nil || o.Key.Fingerprint != fpr1 || o.Key.Account != a.st.Account {
			t.Fatalf("step %d: key %+v %v; want alice's %s from her account %s", i, o.Key, err, fpr1, a.st.Account)
		}
		if i == 1 && (o.Change == nil || o.Change.Adopted) {
			t.Errorf("mallory's rotation: change %+v, want it held back", o.Change)
		}
	}
}

// Two resolvers on one cache (the agent and a CLI command are two
// processes; flock locks exclude each other across open files even within
// one process) looking up different addresses at once: every answer is
// kept, none overwritten by the other's stale copy.
func TestCacheSharedBetweenResolvers(t *testing.T) {
	w := newWorld(t)
	dir := t.TempDir()
	rs := []*Resolver{w.resolver(dir, true, false, ""), w.resolver(dir, true, false, "")}
	const each = 20
	var wg sync.WaitGroup
	for i, r := range rs {
		wg.Go(func() {
			for j := range each {
				if _, err := r.Lookup(ctxT(t), fmt.Sprintf("nobody%d-%d@example.com", i, j)); !errors.Is(err, ErrNotFound) {
					t.Errorf("lookup: got %v, want ErrNotFound", err)
				}
			}
		})
	}
	wg.Wait()
	for i := range rs {
		for j := range each {
			if _, err := rs[1-i].Known(fmt.Sprintf("nobody%d-%d@example.com", i, j)); err != nil {
				t.Errorf("answer %d of resolver %d lost: %v", j, i, err)
			}
		}
	}
}
