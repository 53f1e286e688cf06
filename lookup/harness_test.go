package lookup

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/endymail/endymail/mesh/client"
	"github.com/endymail/endymail/mesh/proto"
	"github.com/endymail/endymail/mesh/server"
	"github.com/endymail/endymail/mesh/server/servertest"
	"github.com/endymail/endymail/openpgp"
	"github.com/endymail/endymail/smime"
)

// world is a real mesh service (embedded store, WKD for example.com) on
// plain loopback HTTP for the mesh client and behind TLS for WKD, with a
// tamper hook in front of both that stands for a hostile source.
type world struct {
	t     *testing.T
	mesh  *client.Client
	https *http.Client // dials every host:443 to the TLS listener, trusts the test CA
	hook  *hook
	now   time.Time
}

// hook lets a test rewrite any answer: it gets the request and the real
// status and body and returns what to send instead.
type hook struct {
	mu   sync.Mutex
	fn   func(r *http.Request, status int, body []byte) (int, []byte)
	hits int
	next http.Handler
}

func (h *hook) set(fn func(r *http.Request, status int, body []byte) (int, []byte)) {
	h.mu.Lock()
	h.fn = fn
	h.mu.Unlock()
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	fn := h.fn
	h.hits++
	h.mu.Unlock()
	rec := httptest.NewRecorder()
	h.next.ServeHTTP(rec, r)
	status, body := rec.Code, rec.Body.Bytes()
	if fn != nil {
		status, body = fn(r, status, body)
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(status)
	w.Write(body)
}

func (h *hook) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits
}

func newWorld(t *testing.T) *world {
	t.Helper()
	srv := servertest.New(t, server.Config{WKDDomains: []string{"example.com"}})
	var err error
	w := &world{t: t, hook: &hook{next: srv.Handler()}, now: time.Now()}
	plain := httptest.NewServer(w.hook)
	t.Cleanup(plain.Close)
	if w.mesh, err = client.New(plain.URL); err != nil {
		t.Fatal(err)
	}
	pool, cert := testPKI(t, "example.com", "openpgpkey.example.com", "keys.example.net")
	tlsSrv := httptest.NewUnstartedServer(w.hook)
	tlsSrv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	addr := tlsSrv.Listener.Addr().String()
	w.https = &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, hostport string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr) // the test's "hosts file"
		},
	}}
	return w
}

// testPKI makes a CA and a server certificate for hosts signed by it.
func testPKI(t *testing.T, hosts ...string) (*x509.CertPool, tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "endymail test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: hosts[0]}, DNSNames: hosts,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// account is a mesh account made by hand: root key, one admin device.
type account struct {
	root, admin *proto.SigningKey
	log         []proto.Envelope
	st          *proto.State
}

func (w *world) newAccount(handle string) *account {
	w.t.Helper()
	a := localAccount(w.t, handle)
	if _, err := w.mesh.CreateAccount(context.Background(), a.log); err != nil {
		w.t.Fatal(err)
	}
	return a
}

// localAccount makes an account that exists only in the test (a hostile
// source's own, validly signed log).
func localAccount(t *testing.T, handle string) *account {
	root, _ := proto.GenerateSigningKey()
	admin, _ := proto.GenerateSigningKey()
	kem, _ := proto.KEM().GenerateKey()
	a := &account{root: root, admin: admin}
	g := &proto.Entry{V: 1, Account: proto.AccountID(root.Public()), Time: time.Now().UTC(), Signer: root.ID(), Kind: proto.KindGenesis,
		Genesis: &proto.Genesis{Handle: handle, RootKey: root.Public(), Recovery: proto.RecoveryPolicy{Threshold: 2, Shares: 3}}}
	genv, _ := proto.Sign(proto.ContextEntry, g.Marshal(), root)
	a.log = []proto.Envelope{genv}
	a.st, _ = proto.NewState(genv)
	dev := proto.DeviceProfile{Name: "laptop", SignKey: admin.Public(), HPKEKey: kem.PublicKey().Bytes()}
	a.add(t, root, proto.KindDeviceAdd, func(e *proto.Entry) { e.DeviceAdd = &proto.DeviceAdd{Device: dev, Admin: true} })
	return a
}

func (a *account) add(t *testing.T, k *proto.SigningKey, kind string, body func(*proto.Entry)) proto.Envelope {
	e := &proto.Entry{V: 1, Account: a.st.Account, Seq: a.st.Seq + 1, Prev: a.st.Head, Time: time.Now().UTC(), Signer: k.ID(), Kind: kind}
	body(e)
	env, _ := proto.Sign(proto.ContextEntry, e.Marshal(), k)
	if err := a.st.Apply(env); err != nil {
		t.Fatal(err)
	}
	a.log = append(a.log, env)
	return env
}

// publish appends a publication of keys for addr to the account's log on
// the service.
func (w *world) publish(a *account, addr string, pgp []byte, chain [][]byte) {
	w.t.Helper()
	env := a.add(w.t, a.admin, proto.KindPublish, func(e *proto.Entry) {
		e.Publish = &proto.Publish{Address: addr, OpenPGP: pgp, SMIME: chain}
	})
	if _, err := w.mesh.Append(context.Background(), a.st.Account, env); err != nil {
		w.t.Fatal(err)
	}
}

// pgpKey makes a public key with the user ID "<uid>", valid from now on for
// lifetime (default when zero).
func pgpKey(t testing.TB, uid string, now time.Time, lifetime time.Duration) (pub []byte, fpr string) {
	t.Helper()
	k, err := openpgp.Generate(openpgp.KeyRequest{Address: uid, Now: now, Lifetime: lifetime})
	if err != nil {
		t.Fatal(err)
	}
	pub, err = k.SerializePublic()
	if err != nil {
		t.Fatal(err)
	}
	return pub, k.Fingerprint()
}

// smimeChain makes a personal CA and a P-256 leaf for addr.
func smimeChain(t *testing.T, addr string) [][]byte {
	t.Helper()
	ca, err := smime.NewCA("test CA", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	id, err := ca.Issue(smime.LeafRequest{Address: addr, KeyType: smime.P256, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{id.Cert.Raw, id.Chain[0].Raw}
}

// resolver returns a resolver over dir with the world's sources and a
// short timeout; set toggles sources.
func (w *world) resolver(dir string, mesh, wkd bool, vks string) *Resolver {
	w.t.Helper()
	cfg := Config{Dir: dir, HTTP: w.https, NoWKD: !wkd, VKS: vks, Timeout: 500 * time.Millisecond,
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
