package agent

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"slices"
	"testing"

	"github.com/endymail/endymail/mesh/proto"
	"github.com/endymail/endymail/openpgp"
	"github.com/endymail/endymail/smime"
)

// approvedPair makes device A with an account and device B approved on it.
func approvedPair(t *testing.T) (a, b *Agent) {
	url, _ := startMesh(t)
	a = openAgent(t)
	if _, err := a.Init(ctxT(t), alice, url, "laptop"); err != nil {
		t.Fatal(err)
	}
	b = openAgent(t)
	c := startConnect(t, b, url, "phone")
	if _, err := a.Approve(ctxT(t), ApproveOptions{Code: c.waitCode(t)}); err != nil {
		t.Fatal(err)
	}
	if d := c.wait(t); d.err != nil {
		t.Fatal(d.err)
	}
	return a, b
}

func TestEnableThenSelftestOnOtherDevice(t *testing.T) {
	a, b := approvedPair(t)
	opt := EnableOptions{Address: "Alice@Example.com", Name: "Alice", SMIMEKey: smime.RSA2048, OpenPGPKey: openpgp.Ed25519}
	res, err := a.Enable(ctxT(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.AlreadyEnabled || !res.NewCA || res.Address != alice || len(res.OpenPGP) != 40 {
		t.Errorf("first enable: %+v", res)
	}
	again, err := a.Enable(ctxT(t), opt)
	if err != nil || !again.AlreadyEnabled {
		t.Errorf("second enable: got %+v, %v; want AlreadyEnabled", again, err)
	}
	checks, err := b.Selftest(ctxT(t), alice)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if !c.OK {
			t.Errorf("selftest on B: %s: %s", c.Name, c.Detail)
		}
	}
	if len(checks) != 2 {
		t.Errorf("got %d checks, want 2", len(checks))
	}
	if _, err := b.Enable(ctxT(t), opt); !errors.Is(err, ErrNotAdmin) {
		t.Errorf("enable on a non-admin device: got %v, want ErrNotAdmin", err)
	}
	st, err := b.Status(ctxT(t))
	if err != nil || len(st.Published) != 1 || st.Published[0] != alice {
		t.Errorf("published on B: %+v %v", st, err)
	}
}

func TestExportFormats(t *testing.T) {
	url, _ := startMesh(t)
	a := newAccount(t, url)
	if _, err := a.Enable(ctxT(t), EnableOptions{Address: alice, Name: "Alice", SMIMEKey: smime.P256}); err != nil {
		t.Fatal(err)
	}
	chain, err := a.Export(ctxT(t), alice, FormatChain, nil)
	if err != nil {
		t.Fatal(err)
	}
	var certs []*x509.Certificate
	for rest := chain; ; {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, c)
	}
	if len(certs) != 2 || certs[0].EmailAddresses[0] != alice || !certs[1].IsCA {
		t.Fatalf("chain: %d certificates, want leaf for %s and the CA", len(certs), alice)
	}
	if _, err := a.Export(ctxT(t), alice, FormatPKCS12, nil); !errors.Is(err, ErrNeedPassword) {
		t.Errorf("p12 without password: got %v, want ErrNeedPassword", err)
	}
	p12, err := a.Export(ctxT(t), alice, FormatPKCS12, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := smime.ParsePKCS12(p12, "pw")
	if err != nil || !id.Cert.Equal(certs[0]) {
		t.Errorf("p12 round trip: %v", err)
	}
	sec, err := a.Export(ctxT(t), alice, FormatOpenPGPSecret, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openpgp.ParseSecret(sec, []byte("pw")); err != nil {
		t.Errorf("exported secret key does not open with its passphrase: %v", err)
	}
	pub, err := a.Export(ctxT(t), alice, FormatOpenPGPPublic, nil)
	if err != nil || !bytes.Contains(pub, []byte("BEGIN PGP PUBLIC KEY BLOCK")) {
		t.Errorf("public key export: %v", err)
	}
	if _, err := a.Export(ctxT(t), "bob@example.com", FormatCert, nil); !errors.Is(err, ErrNotEnabled) {
		t.Errorf("export of an address never enabled: got %v, want ErrNotEnabled", err)
	}
}

func TestRotateKeepsOldAndDisable(t *testing.T) {
	url, _ := startMesh(t)
	a := newAccount(t, url)
	first, err := a.Enable(ctxT(t), EnableOptions{Address: alice, SMIMEKey: smime.P256})
	if err != nil {
		t.Fatal(err)
	}
	second, err := a.Enable(ctxT(t), EnableOptions{Address: alice, SMIMEKey: smime.P256, Rotate: true})
	if err != nil {
		t.Fatal(err)
	}
	if second.OpenPGP == first.OpenPGP || second.NewCA {
		t.Errorf("rotate: got %+v after %+v; want new keys, same CA", second, first)
	}
	if got, err := a.EnabledAddresses(); err != nil || !slices.Equal(got, []string{alice}) {
		t.Errorf("EnabledAddresses after enable: got %q, %v; want %s", got, err, alice)
	}
	s, _ := a.open()
	keys, err := a.addressKeys(ctxT(t), s, alice)
	if err != nil || len(keys.Old) != 1 {
		t.Fatalf("after rotation: %d old key sets, want 1 (%v)", len(keys.Old), err)
	}
	res, err := a.Disable(ctxT(t), alice, false)
	if err != nil || !res.Unpublished || res.Forgotten {
		t.Fatalf("disable: %+v %v", res, err)
	}
	if _, err := a.Export(ctxT(t), alice, FormatCert, nil); err != nil {
		t.Errorf("keys of a disabled address stay exportable for old mail: %v", err)
	}
	st, _ := a.Status(ctxT(t))
	if len(st.Published) != 0 {
		t.Errorf("still published after disable: %v", st.Published)
	}
	if got, err := a.EnabledAddresses(); err != nil || len(got) != 0 {
		t.Errorf("EnabledAddresses after disable: got %q, %v; want none", got, err)
	}
	if res, err := a.Disable(ctxT(t), alice, true); err != nil || !res.Forgotten {
		t.Fatalf("disable --forget: %+v %v", res, err)
	}
	if _, err := a.Export(ctxT(t), alice, FormatCert, nil); !errors.Is(err, ErrNotEnabled) {
		t.Errorf("export after forget: got %v, want ErrNotEnabled", err)
	}
	again, err := a.Enable(ctxT(t), EnableOptions{Address: alice, SMIMEKey: smime.P256})
	if err != nil || again.AlreadyEnabled {
		t.Errorf("enable after forget: %+v %v", again, err)
	}
}

func TestRemovedDeviceCannotOpenNewBundles(t *testing.T) {
	a, b := approvedPair(t)
	if _, err := a.Enable(ctxT(t), EnableOptions{Address: alice, SMIMEKey: smime.P256}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Selftest(ctxT(t), alice); err != nil {
		t.Fatalf("selftest before removal: %v", err)
	}
	if _, err := a.RemoveDevice(ctxT(t), mustID(t, b)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetBundle(ctxT(t), addressBundle(alice)); !errors.Is(err, proto.ErrNotWrapped) {
		t.Errorf("removed device opening the re-sealed bundle: got %v, want ErrNotWrapped", err)
	}
	if _, err := a.RemoveDevice(ctxT(t), mustID(t, a)); err == nil {
		t.Error("a device removed itself")
	}
	devs, _ := a.Devices(ctxT(t))
	if len(devs) != 1 {
		t.Errorf("%d devices after removal, want 1", len(devs))
	}
}

// With every device lost, two of the three recovery shares bring the account
// back on a new device, with its keys.
func TestRecoverFromShares(t *testing.T) {
	url, _ := startMesh(t)
	a := openAgent(t)
	res, err := a.Init(ctxT(t), alice, url, "laptop")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Enable(ctxT(t), EnableOptions{Address: alice, SMIMEKey: smime.P256}); err != nil {
		t.Fatal(err)
	}
	other, err := openAgent(t).Init(ctxT(t), "bob@example.com", url, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openAgent(t).Recover(ctxT(t), alice, url, "new", res.Shares[:1]); err == nil {
		t.Error("one share of a 2-of-3 split recovered the account")
	}
	if _, err := openAgent(t).Recover(ctxT(t), alice, url, "new", other.Shares[1:]); !errors.Is(err, ErrWrongShares) {
		t.Errorf("another account's shares: got %v, want ErrWrongShares", err)
	}
	c := openAgent(t)
	got, err := c.Recover(ctxT(t), alice, url, "new laptop", []string{res.Shares[2], res.Shares[0]})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Admin || len(got.Bundles) != 2 {
		t.Errorf("recovered: %+v, want an admin device with the ca and address bundles", got)
	}
	checks, err := c.Selftest(ctxT(t), alice)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range checks {
		if !ch.OK {
			t.Errorf("selftest after recovery: %s: %s", ch.Name, ch.Detail)
		}
	}
}
