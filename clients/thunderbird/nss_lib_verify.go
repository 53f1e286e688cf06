package thunderbird

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/endymail/endymail/clients/thunderbird/nsslib"
)

// The nssVerifier half of nssLib: reading received certificates.

func (n *nssLib) emailFingerprints(ctx context.Context, dir, address string) (map[string]bool, error) {
	r, err := n.one(ctx, dir, nsslib.Op{Kind: nsslib.ByEmail, Nick: address})
	if err != nil || len(r.Certs) == 0 {
		return nil, err
	}
	fprs := map[string]bool{}
	for _, der := range r.Certs {
		sum := sha256.Sum256(der)
		fprs[colonHex(sum[:])] = true
	}
	return fprs, nil
}

func (n *nssLib) addBuiltinRoots(ctx context.Context, dir, installDir string) (bool, error) {
	for _, lib := range builtinRoots(installDir) {
		if !fileExists(lib) {
			continue
		}
		_, err := n.one(ctx, dir, nsslib.Op{Kind: nsslib.AddModule, Nick: "Builtin Roots Module", Library: lib})
		return err == nil, err
	}
	return false, nil
}

func (n *nssLib) verifyRecipient(ctx context.Context, dir string, der []byte) error {
	r, err := n.one(ctx, dir, nsslib.Op{Kind: nsslib.Verify, Data: der})
	switch {
	case err != nil:
		return err
	case !r.Valid:
		return fmt.Errorf("%w: %s", errNotRecipient, r.Reason)
	}
	return nil
}

func (n *nssLib) chainNicks(ctx context.Context, dir, nick string) ([]string, error) {
	r, err := n.one(ctx, dir, nsslib.Op{Kind: nsslib.Chain, Nick: nick})
	return r.Nicks, err
}
