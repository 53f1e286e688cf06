package lookup

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SourceReceived ends the source name of a key found among the
// certificates of signed mail the user received, as a mail client kept
// them: the record's Source is "<client> received mail", e.g.
// "thunderbird received mail".
const SourceReceived = "received mail"

// maxReceivedChains caps how many chains one client's answer may hold.
const maxReceivedChains = 16

// ReceivedCerts is a mail client's store of certificates from signed mail
// the user received (clients.ReceivedCerts of a configurator satisfies it).
// It returns chains, leaf first, that the client itself would encrypt to
// for addr; none is an empty result and a nil error. Whatever it returns
// is checked here again, as any source's answer is.
type ReceivedCerts interface {
	ReceivedCertificates(ctx context.Context, addr string) ([][]*x509.Certificate, error)
}

// Received is one client's store of received certificates in the chain.
type Received struct {
	Client string // names the source: Client + " " + SourceReceived
	Certs  ReceivedCerts
}

// Source is the name records found by r carry.
func (r Received) Source() string { return r.Client + " " + SourceReceived }

// received asks one client's store. Of the chains that pass the checks it
// returns the known key if it is among them, else the newest; refused
// chains come back as errors (all of them, joined, when none passed).
func (r *Resolver) received(ctx context.Context, src Received, addr string, known *Record) (*Record, []error, error) {
	chains, err := src.Certs.ReceivedCertificates(ctx, addr)
	if err != nil {
		return nil, nil, err
	}
	if len(chains) == 0 {
		return nil, nil, errNotHere
	}
	if len(chains) > maxReceivedChains {
		return nil, nil, fmt.Errorf("%w: %d certificate chains, limit %d", ErrTooLarge, len(chains), maxReceivedChains)
	}
	var good []*Record
	var bad []error
	for i, chain := range chains {
		rec, err := checkReceived(chain, addr, r.cfg.Now())
		if err != nil {
			bad = append(bad, fmt.Errorf("certificate %d of %d: %w", i+1, len(chains), err))
			continue
		}
		good = append(good, rec)
	}
	if len(good) == 0 {
		return nil, nil, errors.Join(bad...)
	}
	if known != nil {
		if i := slices.IndexFunc(good, func(g *Record) bool { return g.SMIMEFingerprint == known.SMIMEFingerprint }); i >= 0 {
			return good[i], bad, nil
		}
	}
	newest := slices.MaxFunc(good, func(a, b *Record) int {
		return leafOf(a).NotBefore.Compare(leafOf(b).NotBefore)
	})
	return newest, bad, nil
}

// checkReceived applies checkSMIME to one chain and requires of its leaf
// what a recipient's certificate needs: no CA, e-mail protection allowed.
func checkReceived(chain []*x509.Certificate, addr string, now time.Time) (*Record, error) {
	if len(chain) == 0 || slices.Contains(chain, nil) {
		return nil, fmt.Errorf("%w: empty certificate chain", ErrMalformed)
	}
	ders := make([][]byte, len(chain))
	for i, c := range chain {
		ders[i] = c.Raw
	}
	fpr, err := checkSMIME(ders, addr, now)
	if err != nil {
		return nil, err
	}
	leaf, _ := x509.ParseCertificate(ders[0]) // checkSMIME parsed it
	if leaf.IsCA {
		return nil, fmt.Errorf("%w: S/MIME certificate %s is a CA certificate", ErrMalformed, short(fpr))
	}
	if !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageEmailProtection) {
		return nil, fmt.Errorf("%w: S/MIME certificate %s does not allow e-mail protection", ErrMalformed, short(fpr))
	}
	return &Record{SMIME: ders, SMIMEFingerprint: fpr}, nil
}

func leafOf(rec *Record) *x509.Certificate {
	c, _ := x509.ParseCertificate(rec.SMIME[0]) // checked by checkReceived
	return c
}

func short(fpr string) string { return strings.ToUpper(fpr[:16]) }
