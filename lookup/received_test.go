package lookup

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeReceived stands for a mail client's store of received certificates
// (our own interface, not a peer): it answers chains per address and
// counts the questions.
type fakeReceived struct {
	mu     sync.Mutex
	chains map[string][][]*x509.Certificate
	err    error
	asked  int
}

func (f *fakeReceived) ReceivedCertificates(ctx context.Context, addr string) ([][]*x509.Certificate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked++
	return f.chains[addr], f.err
}

func (f *fakeReceived) set(addr string, chains ...[]*x509.Certificate) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.chains == nil {
		f.chains = map[string][][]*x509.Certificate{}
	}
	f.chains[addr] = chains
}

// certMaker issues test certificates from one CA.
type certMaker struct {
	t   *testing.T
	ca  *x509.Certificate
	key *ecdsa.PrivateKey
	now time.Time
}

func newCertMaker(t *testing.T, now time.Time) *certMaker {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Other Org Mail CA"},
		NotBefore: now.Add(-48 * time.Hour), NotAfter: now.AddDate(2, 0, 0), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	m := &certMaker{t: t, key: key, now: now}
	m.ca = m.sign(tmpl, tmpl, &key.PublicKey)
	return m
}

func (m *certMaker) sign(tmpl, parent *x509.Certificate, pub any) *x509.Certificate {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, m.key)
	if err != nil {
		m.t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

// leaf issues a mail certificate for addr valid from notBefore for 30
// days; edit changes the template first.
func (m *certMaker) leaf(addr string, notBefore time.Time, edit func(*x509.Certificate)) []*x509.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: addr}, EmailAddresses: []string{addr},
		NotBefore: notBefore, NotAfter: notBefore.Add(30 * 24 * time.Hour), BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	if edit != nil {
		edit(tmpl)
	}
	return []*x509.Certificate{m.sign(tmpl, m.ca, &key.PublicKey), m.ca}
}

const carol = "carol@example.org"

// receivedResolver has no mesh, WKD answering 404 (the world's default for
// an unpublished address), and the given received stores.
func (w *world) receivedResolver(dir string, mesh bool, stores ...Received) *Resolver {
	w.t.Helper()
	cfg := Config{Dir: dir, HTTP: w.https, Timeout: 2 * time.Second, Received: stores,
		Now: func() time.Time { return w.now }}
	if mesh {
		cfg.Mesh = w.mesh
	}
	r, err := New(cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func TestReceivedIsAskedLast(t *testing.T) {
	w := newWorld(t)
	a := w.newAccount(alice)
	k1, fpr := pgpKey(t, alice, w.now, 0)
	w.publish(a, alice, k1, nil)
	m := newCertMaker(t, w.now)
	first, second := &fakeReceived{}, &fakeReceived{}
	second.set(alice, m.leaf(alice, w.now.Add(-time.Hour), nil))
	second.set(carol, m.leaf(carol, w.now.Add(-time.Hour), nil))
	stores := []Received{{Client: "first", Certs: first}, {Client: "thunderbird", Certs: second}}

	o, err := w.receivedResolver(t.TempDir(), true, stores...).Lookup(ctxT(t), alice)
	if err != nil || o.Key.Source != SourceMesh || o.Key.Fingerprint != fpr || first.asked+second.asked != 0 {
		t.Fatalf("published address: got %+v, %v, %d questions to the stores; want the mesh's key and none", o.Key, err, first.asked+second.asked)
	}
	o, err = w.receivedResolver(t.TempDir(), true, stores...).Lookup(ctxT(t), "Carol@Example.org")
	if err != nil {
		t.Fatal(err)
	}
	if o.Key.Source != "thunderbird received mail" || o.Key.SMIMEFingerprint == "" || len(o.Key.SMIME) != 2 ||
		o.Key.Fingerprint != "" || first.asked != 1 || second.asked != 1 {
		t.Errorf("address only in received mail: got %+v, first asked %d, second %d; want the second store's certificate, each asked once",
			o.Key, first.asked, second.asked)
	}
}

func TestReceivedCachingAndChanges(t *testing.T) {
	w := newWorld(t)
	m := newCertMaker(t, w.now)
	store := &fakeReceived{}
	old := m.leaf(carol, w.now.Add(-time.Hour), nil)
	store.set(carol, old)
	r := w.receivedResolver(t.TempDir(), false, Received{Client: "thunderbird", Certs: store})
	o, err := r.Lookup(ctxT(t), carol)
	if err != nil {
		t.Fatal(err)
	}
	oldFpr := o.Key.SMIMEFingerprint
	if o, err := r.Lookup(ctxT(t), carol); err != nil || !o.Cached || store.asked != 1 {
		t.Errorf("second lookup: cached %v, asked %d, %v; want the cache, asked once", o.Cached, store.asked, err)
	}

	// A newer certificate next to the known one: the known one stays.
	newer := m.leaf(carol, w.now.Add(-time.Minute), nil)
	store.set(carol, newer, old)
	if o, err := r.Fetch(ctxT(t), carol); err != nil || o.Key.SMIMEFingerprint != oldFpr || o.Change != nil {
		t.Errorf("known and newer certificate: got %s change %+v, %v; want the known %s, no change", o.Key.SMIMEFingerprint, o.Change, err, oldFpr)
	}
	// Only a different certificate: held back, never a silent replacement.
	store.set(carol, newer)
	o, err = r.Fetch(ctxT(t), carol)
	if err != nil || o.Key.SMIMEFingerprint != oldFpr || o.Change == nil || o.Change.Adopted {
		t.Fatalf("different certificate: got %s change %+v, %v; want %s kept and a held-back change", o.Key.SMIMEFingerprint, o.Change, err, oldFpr)
	}
	k, _ := r.Known(carol)
	if k.Pending == nil || k.Pending.SMIMEFingerprint == oldFpr || k.Pending.Source != "thunderbird received mail" {
		t.Errorf("pending: got %+v, want the new certificate from thunderbird received mail", k.Pending)
	}
	// Once the known certificate expired, a newer one is adopted.
	w.now = old[0].NotAfter.Add(time.Hour)
	store.set(carol, m.leaf(carol, w.now.Add(-time.Hour), nil))
	if o, err := r.Fetch(ctxT(t), carol); err != nil || o.Change == nil || !o.Change.Adopted || o.Key.SMIMEFingerprint == oldFpr {
		t.Errorf("after expiry: got %+v change %+v, %v; want the new certificate adopted", o.Key, o.Change, err)
	}
}

func TestReceivedRejections(t *testing.T) {
	w := newWorld(t)
	m := newCertMaker(t, w.now)
	other := newCertMaker(t, w.now)
	broken := m.leaf(carol, w.now.Add(-time.Hour), nil)
	broken[1] = other.ca // a chain whose CA did not issue the leaf
	cases := []struct {
		name  string
		chain []*x509.Certificate
		want  error
		text  string
	}{
		{"expired", m.leaf(carol, w.now.Add(-40*24*time.Hour), nil), ErrExpired, "valid"},
		{"not yet valid", m.leaf(carol, w.now.Add(time.Hour), nil), ErrExpired, "valid"},
		{"other address", m.leaf("mallory@example.org", w.now.Add(-time.Hour), nil), ErrWrongUserID, "mallory@example.org"},
		{"no e-mail usage", m.leaf(carol, w.now.Add(-time.Hour), func(c *x509.Certificate) {
			c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		}), ErrMalformed, "e-mail protection"},
		{"a CA", m.leaf(carol, w.now.Add(-time.Hour), func(c *x509.Certificate) {
			c.IsCA, c.KeyUsage = true, x509.KeyUsageCertSign
		}), ErrMalformed, "CA certificate"},
		{"broken chain", broken, ErrMalformed, "did not issue"},
		{"empty chain", nil, ErrMalformed, "empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := &fakeReceived{}
			store.set(carol, c.chain)
			o, err := w.receivedResolver(t.TempDir(), false, Received{Client: "thunderbird", Certs: store}).Lookup(ctxT(t), carol)
			if !errors.Is(err, ErrNotFound) || o.Key != nil {
				t.Fatalf("got %+v, %v; want ErrNotFound", o.Key, err)
			}
			rej := receivedRejections(o.Rejected)
			if len(rej) != 1 || !strings.Contains(rej[0].Reason, c.want.Error()) || !strings.Contains(rej[0].Reason, c.text) {
				t.Errorf("rejections %+v; want one from thunderbird received mail saying %q and %q", o.Rejected, c.want, c.text)
			}
		})
	}
	// A good certificate beside a bad one: the good one, the bad one named.
	store := &fakeReceived{}
	store.set(carol, m.leaf("mallory@example.org", w.now.Add(-time.Hour), nil), m.leaf(carol, w.now.Add(-time.Hour), nil))
	o, err := w.receivedResolver(t.TempDir(), false, Received{Client: "thunderbird", Certs: store}).Lookup(ctxT(t), carol)
	if err != nil || len(receivedRejections(o.Rejected)) != 1 || !strings.Contains(receivedRejections(o.Rejected)[0].Reason, "certificate 1 of 2") {
		t.Errorf("good beside bad: got %+v, rejected %+v, %v; want the good one and one rejection naming certificate 1", o.Key, o.Rejected, err)
	}
	// A store that fails: a rejection with its error, retried soon.
	store = &fakeReceived{err: errors.New("cert9.db: corrupt configuration")}
	r := w.receivedResolver(t.TempDir(), false, Received{Client: "thunderbird", Certs: store})
	o, err = r.Lookup(ctxT(t), carol)
	if rej := receivedRejections(o.Rejected); !errors.Is(err, ErrNotFound) || len(rej) != 1 || !strings.Contains(rej[0].Reason, "cert9.db") {
		t.Errorf("failing store: got %+v, %v; want ErrNotFound and its error as the rejection", o.Rejected, err)
	}
	if k, _ := r.Known(carol); !k.Expires.Equal(w.now.Add(DefaultRetryTTL)) {
		t.Errorf("failing store: next lookup at %v, want after the retry TTL (%v)", k.Expires, w.now.Add(DefaultRetryTTL))
	}
}

func receivedRejections(rs []Rejection) []Rejection {
	var out []Rejection
	for _, r := range rs {
		if strings.HasSuffix(r.Source, " "+SourceReceived) {
			out = append(out, r)
		}
	}
	return out
}

// TestReceivedTooMany caps a store's answer.
func TestReceivedTooMany(t *testing.T) {
	w := newWorld(t)
	m := newCertMaker(t, w.now)
	store := &fakeReceived{}
	var chains [][]*x509.Certificate
	for range maxReceivedChains + 1 {
		chains = append(chains, m.leaf(carol, w.now.Add(-time.Hour), nil))
	}
	store.set(carol, chains...)
	o, err := w.receivedResolver(t.TempDir(), false, Received{Client: "thunderbird", Certs: store}).Lookup(ctxT(t), carol)
	if rej := receivedRejections(o.Rejected); !errors.Is(err, ErrNotFound) || len(rej) != 1 || !strings.Contains(rej[0].Reason, ErrTooLarge.Error()) {
		t.Errorf("too many chains: got %+v, %v; want ErrNotFound and an ErrTooLarge rejection", o.Rejected, err)
	}
}

// TestReceivedSubjectEmailAddress: an older certificate with the address
// only in the subject's emailAddress is recognised (RFC 8550 section 3).
func TestReceivedSubjectEmailAddress(t *testing.T) {
	w := newWorld(t)
	m := newCertMaker(t, w.now)
	store := &fakeReceived{}
	store.set(carol, m.leaf(carol, w.now.Add(-time.Hour), func(c *x509.Certificate) {
		c.EmailAddresses = nil
		c.Subject.ExtraNames = []pkix.AttributeTypeAndValue{{Type: oidEmailAddress, Value: "Carol@Example.org"}}
	}))
	o, err := w.receivedResolver(t.TempDir(), false, Received{Client: "thunderbird", Certs: store}).Lookup(ctxT(t), carol)
	if err != nil || o.Key.SMIMEFingerprint == "" {
		t.Errorf("address in the subject only: got %+v, %v; want the certificate", o, err)
	}
}

// TestReceivedNeverReplacesAKnownKey: a key known from WKD stays when WKD
// stops answering and only received mail has a (different) certificate.
func TestReceivedNeverReplacesAKnownKey(t *testing.T) {
	w := newWorld(t)
	a := w.newAccount(alice)
	k1, fpr := pgpKey(t, alice, w.now, 0)
	w.publish(a, alice, k1, nil)
	m := newCertMaker(t, w.now)
	store := &fakeReceived{}
	store.set(alice, m.leaf(alice, w.now.Add(-time.Hour), nil))
	cfg := Config{Dir: t.TempDir(), HTTP: w.https, Timeout: 2 * time.Second, Now: func() time.Time { return w.now },
		Received: []Received{{Client: "thunderbird", Certs: store}}}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if o, err := r.Lookup(ctxT(t), alice); err != nil || o.Key.Source != SourceWKDAdvanced || store.asked != 0 {
		t.Fatalf("first lookup: got %+v, %v, store asked %d; want WKD's key, the store not asked", o.Key, err, store.asked)
	}
	w.hook.set(func(r *http.Request, status int, body []byte) (int, []byte) { return http.StatusNotFound, nil })
	o, err := r.Fetch(ctxT(t), alice)
	if err != nil || o.Key.Fingerprint != fpr || o.Change == nil || o.Change.Adopted || o.Change.Source != "thunderbird received mail" {
		t.Errorf("WKD gone, a certificate in received mail: got %+v change %+v, %v; want WKD's %s kept and the certificate held back",
			o.Key, o.Change, err, fpr)
	}
}

// receivedVector reads testdata/carol-smime.pem: carol's leaf, its CA.
func receivedVector(tb testing.TB) []*x509.Certificate {
	src, err := os.ReadFile("testdata/carol-smime.pem")
	if err != nil {
		tb.Fatal(err)
	}
	var chain []*x509.Certificate
	for b, rest := pem.Decode(src); b != nil; b, rest = pem.Decode(rest) {
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			tb.Fatal(err)
		}
		chain = append(chain, c)
	}
	return chain
}

func TestReceivedVector(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	chain := receivedVector(t)
	if _, err := checkReceived(chain, "Carol@Example.org", now); err != nil {
		t.Errorf("carol's vector: %v", err)
	}
	if _, err := checkReceived(chain[1:], "carol@example.org", now); !errors.Is(err, ErrWrongUserID) {
		t.Errorf("the CA alone for carol: got %v, want ErrWrongUserID", err)
	}
	if _, err := checkReceived(chain, "carol@example.org", now.AddDate(11, 0, 0)); !errors.Is(err, ErrExpired) {
		t.Errorf("carol's vector in 2038: got %v, want ErrExpired", err)
	}
}

// FuzzCheckReceived: whatever DER a client hands over, an accepted leaf
// names the address, is no CA and allows e-mail protection.
func FuzzCheckReceived(f *testing.F) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range receivedVector(f) {
		f.Add(c.Raw)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		rec, err := checkReceived([]*x509.Certificate{c}, "carol@example.org", now)
		if err != nil {
			return
		}
		if c.IsCA || !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageEmailProtection) ||
			!slices.ContainsFunc(certAddresses(c), func(a string) bool { return strings.EqualFold(a, "carol@example.org") }) ||
			rec.SMIMEFingerprint == "" {
			t.Fatalf("accepted %v for carol@example.org", c.Subject)
		}
	})
}
