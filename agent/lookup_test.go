package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/endymail/endymail/lookup"
	"github.com/endymail/endymail/mesh/proto"
	"github.com/endymail/endymail/smime"
)

// enableAlice makes alice's account on the mesh at url and enables her
// address; it returns her agent and the published OpenPGP fingerprint.
func enableAlice(t *testing.T, url string) (*Agent, string) {
	t.Helper()
	a := openAgent(t)
	if _, err := a.Init(ctxT(t), alice, url, "laptop"); err != nil {
		t.Fatal(err)
	}
	res, err := a.Enable(ctxT(t), EnableOptions{Address: alice, Name: "Alice", SMIMEKey: smime.P256})
	if err != nil {
		t.Fatal(err)
	}
	return a, res.OpenPGP
}

func TestLookupFindsEnabledAddressOnTheMesh(t *testing.T) {
	url, h := startMesh(t)
	_, fpr := enableAlice(t, url)
	bob := openAgent(t)
	if _, err := bob.Init(ctxT(t), "bob@example.com", url, "bob's laptop"); err != nil {
		t.Fatal(err)
	}
	o, err := bob.LookupWith(ctxT(t), "Alice@example.com", LookupOptions{NoWKD: true})
	if err != nil {
		t.Fatal(err)
	}
	if o.Key.Source != lookup.SourceMesh || o.Key.Fingerprint != fpr || o.Key.SMIMEFingerprint == "" || len(o.Key.SMIME) != 2 {
		t.Errorf("got %s key %s, S/MIME %q (chain %d); want the mesh's %s with a 2-certificate chain",
			o.Key.Source, o.Key.Fingerprint, o.Key.SMIMEFingerprint, len(o.Key.SMIME), fpr)
	}
	if o2, err := bob.Lookup(ctxT(t), alice); err != nil || !o2.Cached {
		t.Errorf("second lookup: %+v %v, want it from the cache", o2, err)
	}

	// A hostile service that rewrites alice's publication in the log it
	// hands out changes nothing: the signature no longer verifies.
	h.set(func(r *http.Request, status int, body []byte) []byte {
		if r.URL.Path != "/v1/lookup" {
			return body
		}
		var l proto.Lookup
		json.Unmarshal(body, &l)
		for i := range l.Log {
			if e, err := proto.ParseEntry(l.Log[i].Payload); err == nil && e.Publish != nil {
				e.Publish.SMIME = nil
				l.Log[i].Payload = e.Marshal()
			}
		}
		b, _ := json.Marshal(l)
		// The wrapper keeps the service's Content-Length: pad to it (JSON
		// allows trailing white space).
		return append(b, bytes.Repeat([]byte(" "), max(0, len(body)-len(b)))...)
	})
	o, err = bob.LookupWith(ctxT(t), alice, LookupOptions{NoWKD: true, Refresh: true})
	if err != nil || o.Key.Fingerprint != fpr || o.Key.SMIMEFingerprint == "" || len(o.Rejected) != 1 ||
		!strings.Contains(o.Rejected[0].Reason, "does not verify") {
		t.Errorf("tampered lookup: %+v %v; want the old key kept and one rejection", o, err)
	}
	k, err := bob.KnownKeys(ctxT(t), alice)
	if err != nil || k.Current.Fingerprint != fpr || len(k.Changes) != 0 || len(k.Rejections) != 1 {
		t.Errorf("known keys %+v %v; want %s, no change, one rejection", k, err, fpr)
	}
	if _, err := bob.LookupWith(ctxT(t), "carol@example.com", LookupOptions{NoWKD: true}); !errors.Is(err, lookup.ErrNotFound) {
		t.Errorf("unknown address: %v, want lookup.ErrNotFound", err)
	}
}
