package agent

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/endymail/endymail/mesh/proto"
	"github.com/endymail/endymail/openpgp"
	"github.com/endymail/endymail/smime"
)

// Bundle names of the mail keys.
const caBundle = "ca"

func addressBundle(addr string) string { return "mail:" + addr }

// addressKeys is the content of an address's bundle: the current keys, the
// rotated-away ones kept for reading old mail, and the address's state.
type addressKeys struct {
	Address   string   `json:"address"`
	Name      string   `json:"name"`
	Current   *keySet  `json:"current,omitempty"`
	Old       []keySet `json:"old,omitempty"`
	Disabled  bool     `json:"disabled,omitempty"`
	Forgotten bool     `json:"forgotten,omitempty"`
}

// keySet is one generation of an address's keys.
type keySet struct {
	Created    time.Time `json:"created"`
	SMIMEKey   []byte    `json:"smime_key"`   // PKCS#8 DER
	SMIMEChain [][]byte  `json:"smime_chain"` // DER, leaf first, up to the personal CA
	OpenPGP    []byte    `json:"openpgp"`     // unprotected binary secret key
}

// ErrNotEnabled means the address has no keys on this account.
var ErrNotEnabled = errors.New("address is not enabled")

// EnableOptions choose the keys to make for an address.
type EnableOptions struct {
	Address    string
	Name       string
	SMIMEKey   smime.KeyType
	OpenPGPKey openpgp.KeyType
	Rotate     bool // make new keys even if the address has some
}

// EnableResult says what Enable did.
type EnableResult struct {
	Address        string
	AlreadyEnabled bool
	NewCA          bool
	SMIMESerial    string
	OpenPGP        string // fingerprint
}

// Enable makes S/MIME and OpenPGP keys for an address (and the account's
// personal CA on first use), stores the private parts in the address's
// bundle so every device gets them, and publishes the public parts in the
// account log. Enabling an enabled address again changes nothing.
func (a *Agent) Enable(ctx context.Context, opt EnableOptions) (*EnableResult, error) {
	addr, err := proto.NormalizeAddress(opt.Address)
	if err != nil {
		return nil, err
	}
	s, err := a.adminSession(ctx)
	if err != nil {
		return nil, err
	}
	res := &EnableResult{Address: addr}
	keys, err := a.addressKeys(ctx, s, addr)
	if err != nil && !errors.Is(err, ErrNotEnabled) {
		return nil, err
	}
	if keys != nil && keys.Current != nil && !keys.Disabled && !opt.Rotate {
		res.AlreadyEnabled = true
		return res, nil
	}
	if keys == nil || keys.Forgotten {
		keys = &addressKeys{Address: addr}
	}
	if opt.Name != "" {
		keys.Name = opt.Name
	}
	b := s.batch(a.now())
	ca, err := a.personalCA(ctx, s, b, res)
	if err != nil {
		return nil, err
	}
	a.progress("generating the S/MIME and OpenPGP keys for %s", addr)
	ks, id, pgp, err := newKeySet(ca, addr, keys.Name, opt, a.now())
	if err != nil {
		return nil, err
	}
	if keys.Current != nil {
		keys.Old = append(keys.Old, *keys.Current)
	}
	keys.Current, keys.Disabled = ks, false
	if err := a.sealInto(ctx, s, b, addressBundle(addr), mustJSON(keys)); err != nil {
		return nil, err
	}
	pub, err := pgp.SerializePublic()
	if err != nil {
		return nil, err
	}
	if err := b.add(proto.KindPublish, func(e *proto.Entry) {
		e.Publish = &proto.Publish{Address: addr, OpenPGP: pub, SMIME: ks.SMIMEChain}
	}); err != nil {
		return nil, err
	}
	if err := a.commit(ctx, b); err != nil {
		return nil, fmt.Errorf("recording the keys of %s: %w", addr, err)
	}
	res.SMIMESerial, res.OpenPGP = id.Cert.SerialNumber.Text(16), pgp.Fingerprint()
	return res, nil
}

// adminSession opens and syncs a session on an admin device.
func (a *Agent) adminSession(ctx context.Context) (*session, error) {
	s, err := a.open()
	if err != nil {
		return nil, err
	}
	if err := a.sync(ctx, s); err != nil {
		return nil, err
	}
	return s, s.requireAdmin()
}

// personalCA opens the account's CA, or creates it into the batch.
func (a *Agent) personalCA(ctx context.Context, s *session, b *batch, res *EnableResult) (*smime.CA, error) {
	if s.st.Bundles[caBundle] != nil {
		data, err := a.openBundle(ctx, s, caBundle)
		if err != nil {
			return nil, err
		}
		defer clear(data)
		return smime.ParseCA(data)
	}
	a.progress("creating the account's personal certification authority")
	ca, err := smime.NewCA("endymail personal CA of "+s.st.Handle, a.now())
	if err != nil {
		return nil, err
	}
	data, err := ca.Marshal()
	if err != nil {
		return nil, err
	}
	defer clear(data)
	res.NewCA = true
	return ca, a.sealInto(ctx, s, b, caBundle, data)
}

func newKeySet(ca *smime.CA, addr, name string, opt EnableOptions, now time.Time) (*keySet, *smime.Identity, *openpgp.Key, error) {
	id, err := ca.Issue(smime.LeafRequest{Address: addr, Name: name, KeyType: opt.SMIMEKey, Now: now})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("S/MIME certificate: %w", err)
	}
	pgp, err := openpgp.Generate(openpgp.KeyRequest{Name: name, Address: addr, Type: opt.OpenPGPKey, Now: now})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("OpenPGP key: %w", err)
	}
	pk8, err := x509.MarshalPKCS8PrivateKey(id.Key)
	if err != nil {
		return nil, nil, nil, err
	}
	secret, err := pgp.Marshal()
	if err != nil {
		return nil, nil, nil, err
	}
	ks := &keySet{Created: now.UTC(), SMIMEKey: pk8, OpenPGP: secret, SMIMEChain: [][]byte{id.Cert.Raw}}
	for _, c := range id.Chain {
		ks.SMIMEChain = append(ks.SMIMEChain, c.Raw)
	}
	return ks, id, pgp, nil
}

// addressKeys opens an address's bundle.
func (a *Agent) addressKeys(ctx context.Context, s *session, addr string) (*addressKeys, error) {
	if s.st.Bundles[addressBundle(addr)] == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotEnabled, addr)
	}
	data, err := a.openBundle(ctx, s, addressBundle(addr))
	if err != nil {
		return nil, err
	}
	defer clear(data)
	var k addressKeys
	if err := json.Unmarshal(data, &k); err != nil {
		return nil, fmt.Errorf("bundle of %s: %w", addr, err)
	}
	return &k, nil
}

// identity rebuilds the S/MIME identity of a key set.
func (k *keySet) identity() (*smime.Identity, error) {
	key, err := x509.ParsePKCS8PrivateKey(k.SMIMEKey)
	if err != nil {
		return nil, fmt.Errorf("S/MIME key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok || len(k.SMIMEChain) == 0 {
		return nil, errors.New("S/MIME key set is incomplete")
	}
	certs := make([]*x509.Certificate, len(k.SMIMEChain))
	for i, der := range k.SMIMEChain {
		if certs[i], err = x509.ParseCertificate(der); err != nil {
			return nil, fmt.Errorf("S/MIME certificate: %w", err)
		}
	}
	return &smime.Identity{Cert: certs[0], Key: signer, Chain: certs[1:]}, nil
}

// pgpKey rebuilds the OpenPGP key of a key set.
func (k *keySet) pgpKey() (*openpgp.Key, error) { return openpgp.ParseKey(k.OpenPGP) }

// EnabledAddresses lists, sorted, the account's enabled (published)
// addresses as the device's verified copy of the account log has them. It
// asks no service.
func (a *Agent) EnabledAddresses() ([]string, error) {
	s, err := a.open()
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(s.st.Published)), nil
}
