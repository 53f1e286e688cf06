package agent

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/endymail/endymail/mesh/proto"
)

// Export formats.
const (
	FormatPKCS12        = "p12"
	FormatCert          = "cert"
	FormatChain         = "chain"
	FormatOpenPGPPublic = "openpgp-public"
	FormatOpenPGPSecret = "openpgp-secret"
)

// ErrNeedPassword means a format with a private key was asked for without a
// password to protect it.
var ErrNeedPassword = errors.New("a password is needed to export a private key")

// Export returns the address's current keys in format. Private keys (p12,
// openpgp-secret) are protected with password.
func (a *Agent) Export(ctx context.Context, address, format string, password []byte) ([]byte, error) {
	ks, err := a.currentKeys(ctx, address)
	if err != nil {
		return nil, err
	}
	switch format {
	case FormatPKCS12, FormatOpenPGPSecret:
		if len(password) == 0 {
			return nil, ErrNeedPassword
		}
	}
	switch format {
	case FormatPKCS12:
		id, err := ks.identity()
		if err != nil {
			return nil, err
		}
		return id.PKCS12(string(password))
	case FormatCert:
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ks.SMIMEChain[0]}), nil
	case FormatChain:
		var out []byte
		for _, der := range ks.SMIMEChain {
			out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
		}
		return out, nil
	case FormatOpenPGPPublic, FormatOpenPGPSecret:
		k, err := ks.pgpKey()
		if err != nil {
			return nil, err
		}
		if format == FormatOpenPGPPublic {
			return k.ArmoredPublic()
		}
		return k.ArmoredSecret(password)
	}
	return nil, fmt.Errorf("unknown export format %q (want p12, cert, chain, openpgp-public or openpgp-secret)", format)
}

// currentKeys opens the address's current key set on this device.
func (a *Agent) currentKeys(ctx context.Context, address string) (*keySet, error) {
	addr, err := proto.NormalizeAddress(address)
	if err != nil {
		return nil, err
	}
	s, err := a.open()
	if err != nil {
		return nil, err
	}
	if err := a.sync(ctx, s); err != nil {
		return nil, err
	}
	keys, err := a.addressKeys(ctx, s, addr)
	if err != nil {
		return nil, err
	}
	return keys.current()
}

// current returns the current key set, or ErrNotEnabled.
func (k *addressKeys) current() (*keySet, error) {
	if k.Current == nil || k.Forgotten {
		return nil, fmt.Errorf("%w: %s has no current keys", ErrNotEnabled, k.Address)
	}
	return k.Current, nil
}

// caCert returns the personal CA certificate: the last of a key set's chain.
func (k *keySet) caCert() (*x509.Certificate, error) {
	return x509.ParseCertificate(k.SMIMEChain[len(k.SMIMEChain)-1])
}

// DisableResult says what Disable did.
type DisableResult struct {
	Address         string
	AlreadyDisabled bool
	Unpublished     bool
	Forgotten       bool
}

// Disable stops using an address: its keys are unpublished and the address
// is marked disabled in its bundle. The keys stay for reading old mail
// unless forget is set, which drops them from the bundle's next version.
func (a *Agent) Disable(ctx context.Context, address string, forget bool) (*DisableResult, error) {
	addr, err := proto.NormalizeAddress(address)
	if err != nil {
		return nil, err
	}
	s, err := a.adminSession(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := a.addressKeys(ctx, s, addr)
	if err != nil {
		return nil, err
	}
	res := &DisableResult{Address: addr}
	if keys.Disabled && (!forget || keys.Forgotten) {
		res.AlreadyDisabled = true
		return res, nil
	}
	b := s.batch(a.now())
	if s.st.Published[addr] != nil {
		if err := b.add(proto.KindUnpublish, func(e *proto.Entry) { e.Unpublish = &proto.Unpublish{Address: addr} }); err != nil {
			return nil, err
		}
		res.Unpublished = true
	}
	keys.Disabled = true
	if forget {
		keys.Current, keys.Old, keys.Forgotten = nil, nil, true
		res.Forgotten = true
	}
	if err := a.sealInto(ctx, s, b, addressBundle(addr), mustJSON(keys)); err != nil {
		return nil, err
	}
	if err := a.commit(ctx, b); err != nil {
		return nil, fmt.Errorf("disabling %s: %w", addr, err)
	}
	return res, nil
}
