package thunderbird

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/clients/thunderbird/nsslib"
)

// nssLib runs Thunderbird's own NSS library (in libDir) through package
// nsslib, one child process per call.
type nssLib struct {
	libDir string
}

// run runs ops on the database in dir; a damaged database wraps
// [clients.ErrCorrupt].
func (n *nssLib) run(ctx context.Context, dir string, ops ...nsslib.Op) ([]nsslib.Result, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	res, err := nsslib.Run(ctx, n.libDir, abs, ops...)
	if errors.Is(err, nsslib.ErrBadDatabase) {
		err = fmt.Errorf("%w: %w", err, clients.ErrCorrupt)
	}
	return res, err
}

// one runs a single operation and returns its result.
func (n *nssLib) one(ctx context.Context, dir string, op nsslib.Op) (nsslib.Result, error) {
	res, err := n.run(ctx, dir, op)
	if err != nil {
		return nsslib.Result{}, err
	}
	return res[0], nil
}

func (n *nssLib) createDB(ctx context.Context, dir string) error {
	_, err := n.one(ctx, dir, nsslib.Op{Kind: nsslib.Create})
	return err
}

func (n *nssLib) listing(ctx context.Context, dir string) (map[string]string, error) {
	r, err := n.one(ctx, dir, nsslib.Op{Kind: nsslib.List})
	if r.Trust == nil && err == nil {
		r.Trust = map[string]string{}
	}
	return r.Trust, err
}

func (n *nssLib) certsByNick(ctx context.Context, dir, nick string) ([][]byte, error) {
	r, err := n.one(ctx, dir, nsslib.Op{Kind: nsslib.Certs, Nick: nick})
	return r.Certs, err
}

func (n *nssLib) addCert(ctx context.Context, dir, nick, trust string, der []byte) error {
	_, err := n.one(ctx, dir, nsslib.Op{Kind: nsslib.AddCert, Nick: nick, Trust: trust, Data: der})
	return err
}

func (n *nssLib) setTrust(ctx context.Context, dir, nick, trust string) error {
	_, err := n.one(ctx, dir, nsslib.Op{Kind: nsslib.SetTrust, Nick: nick, Trust: trust})
	return err
}

func (n *nssLib) keyNicks(ctx context.Context, dir string) (map[string]bool, error) {
	r, err := n.one(ctx, dir, nsslib.Op{Kind: nsslib.Keys})
	if err != nil {
		return nil, err
	}
	nicks := map[string]bool{}
	for _, k := range r.Keys {
		nicks[k] = true
	}
	return nicks, nil
}

func (n *nssLib) importPKCS12(ctx context.Context, dir string, p12 []byte, password string) error {
	_, err := n.one(ctx, dir, nsslib.Op{Kind: nsslib.ImportPKCS12, Data: p12, Password: password})
	return err
}

func (n *nssLib) deleteNick(ctx context.Context, dir, nick string, withKey bool) error {
	_, err := n.one(ctx, dir, nsslib.Op{Kind: nsslib.Delete, Nick: nick, WithKey: withKey})
	return err
}

// openPGPPassphrase decodes the file's base64 (what pwdecrypt reads) and
// SDR-decrypts it.
func (n *nssLib) openPGPPassphrase(ctx context.Context, dir string, enc []byte) ([]byte, error) {
	blob, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(enc)))
	if err != nil || len(blob) == 0 {
		return nil, fmt.Errorf("%s is not base64 of an SDR blob: %w", passphraseFile, clients.ErrCorrupt)
	}
	r, err := n.one(ctx, dir, nsslib.Op{Kind: nsslib.Decrypt, Data: blob})
	var nssErr *nsslib.Error
	switch {
	case errors.As(err, &nssErr): // NSS refused the blob, as pwdecrypt would
		return nil, fmt.Errorf("could not decrypt %s with its key4.db (damaged file?): %w: %w", passphraseFile, err, clients.ErrCorrupt)
	case err != nil:
		return nil, err
	case len(r.Plain) == 0:
		return nil, fmt.Errorf("%s decrypts to nothing: %w", passphraseFile, clients.ErrCorrupt)
	}
	return r.Plain, nil
}

// mailTrust looks leaf up by its DER and returns its trust in the letters
// CERT_EncodeTrustString and certutil -t use.
func (n *nssLib) mailTrust(ctx context.Context, dir, address string, leaf *x509.Certificate) (trust string, present bool, err error) {
	r, err := n.one(ctx, dir, nsslib.Op{Kind: nsslib.Find, Data: leaf.Raw})
	if err != nil || !r.Found {
		return "", false, err
	}
	return r.Flags, true, nil
}
