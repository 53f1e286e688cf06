package agent

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/endymail/endymail/openpgp"
	"github.com/endymail/endymail/smime"
)

// Check is one line of a self test.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Selftest proves on this device that the address's keys work: it builds a
// signed and encrypted S/MIME message and a PGP/MIME message to the address
// itself, then decrypts and verifies both. It returns every check; err is
// set only when the keys could not be opened at all.
func (a *Agent) Selftest(ctx context.Context, address string) ([]Check, error) {
	ks, err := a.currentKeys(ctx, address)
	if err != nil {
		return nil, err
	}
	addr := strings.ToLower(strings.TrimSpace(address))
	msg := []byte("From: " + addr + "\r\nTo: " + addr + "\r\nSubject: endymail self test\r\n" +
		"Date: " + a.now().UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700") + "\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nendymail self test: this device can sign, encrypt, decrypt and verify.\r\n")
	checks := []Check{a.smimeCheck(ks, msg), a.pgpCheck(ks, msg)}
	return checks, nil
}

func (a *Agent) smimeCheck(ks *keySet, msg []byte) Check {
	c := Check{Name: "S/MIME sign+encrypt → decrypt+verify"}
	id, err := ks.identity()
	if err != nil {
		c.Detail = err.Error()
		return c
	}
	ca, err := ks.caCert()
	if err != nil {
		c.Detail = err.Error()
		return c
	}
	var out []byte
	if _, rsaKey := id.Cert.PublicKey.(*rsa.PublicKey); rsaKey {
		out, err = smime.SignAndEncrypt(msg, id, []*x509.Certificate{id.Cert})
		if err == nil {
			out, err = smime.Decrypt(out, id)
		}
	} else {
		// An ECDSA (P-256) certificate signs only: nothing can be
		// encrypted to it with RSA key transport.
		c.Name = "S/MIME sign → verify (P-256 certificates sign only)"
		out, err = smime.Sign(msg, id)
	}
	var v *smime.Verified
	if err == nil {
		roots := x509.NewCertPool()
		roots.AddCert(ca)
		v, err = smime.Verify(out, roots, a.now())
	}
	if err == nil && !bytes.Contains(v.Message, []byte("endymail self test:")) {
		err = fmt.Errorf("decrypted content differs")
	}
	if err != nil {
		c.Detail = err.Error()
		return c
	}
	c.OK = true
	c.Detail = fmt.Sprintf("certificate %s, signed by %s, chain to %q", v.Signer.SerialNumber.Text(16), v.From, ca.Subject.CommonName)
	return c
}

func (a *Agent) pgpCheck(ks *keySet, msg []byte) Check {
	c := Check{Name: "OpenPGP sign+encrypt → decrypt+verify"}
	k, err := ks.pgpKey()
	if err != nil {
		c.Detail = err.Error()
		return c
	}
	out, err := openpgp.Encrypt(msg, []*openpgp.Key{k}, k)
	var d *openpgp.Decrypted
	if err == nil {
		d, err = openpgp.DecryptAt(out, []*openpgp.Key{k}, a.now())
	}
	if err == nil && d.SignatureErr != nil {
		err = d.SignatureErr
	}
	if err == nil && (!d.Signed || d.Signer == nil || d.Signer.Fingerprint() != k.Fingerprint()) {
		err = fmt.Errorf("decrypted message is not signed by the address's key")
	}
	if err == nil && !bytes.Contains(d.Message, []byte("endymail self test:")) {
		err = fmt.Errorf("decrypted content differs")
	}
	if err != nil {
		c.Detail = err.Error()
		return c
	}
	c.OK = true
	c.Detail = "key " + k.Fingerprint()
	return c
}
