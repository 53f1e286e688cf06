//go:build linux

package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/endymail/endymail/clients/thunderbird"
	"github.com/endymail/endymail/internal/interop"
	"github.com/endymail/endymail/lookup"
	"github.com/endymail/endymail/smime"
)

// TestLookupFindsAddressOnlyInReceivedMail: carol publishes nowhere, but
// a signed message from her left her certificate in a Thunderbird
// profile's NSS database (nickname = her address, no trust of its own,
// her CA trusted for mail: what Thunderbird keeps after verifying it, see
// clients/thunderbird TestReceivedCertificatesFromThunderbird). The
// agent's lookup finds it through the real Thunderbird configurator and
// Thunderbird's NSS, and says where it came from.
func TestLookupFindsAddressOnlyInReceivedMail(t *testing.T) {
	certutil := interop.Need(t, "certutil", "libnss3-tools")
	interop.NeedFile(t, "/usr/lib/thunderbird/libsoftokn3.so", "thunderbird")
	const carol = "carol@example.net"
	ca, err := smime.NewCA("Other Org Mail CA", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	id, err := ca.Issue(smime.LeafRequest{Address: carol, KeyType: smime.P256, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	profile := t.TempDir()
	nss := func(args ...string) {
		cmd := exec.Command(certutil, append(args, "-d", "sql:"+profile)...)
		cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH=/usr/lib/thunderbird")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("certutil %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	nss("-N", "--empty-password")
	for _, c := range []struct {
		nick, trust string
		der         []byte
	}{{"Other Org Mail CA", ",C,", ca.Cert.Raw}, {carol, ",,", id.Cert.Raw}} {
		f := filepath.Join(t.TempDir(), "c.der")
		os.WriteFile(f, c.der, 0o600)
		nss("-A", "-n", c.nick, "-t", c.trust, "-i", f)
	}

	a := openAgent(t)
	a.Clients = []NamedClient{{Name: "thunderbird", Configurator: thunderbird.New(thunderbird.Options{Profiles: []string{profile}})}}
	o, err := a.LookupWith(ctxT(t), "Carol@Example.net", LookupOptions{NoWKD: true})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(id.Cert.Raw)
	if want := strings.ToUpper(hex.EncodeToString(sum[:])); o.Key.Source != "thunderbird received mail" ||
		o.Key.SMIMEFingerprint != want || len(o.Key.SMIME) != 2 || o.Key.Fingerprint != "" {
		t.Errorf("carol: got source %q S/MIME %s (chain %d) OpenPGP %q; want thunderbird received mail, %s with its CA",
			o.Key.Source, o.Key.SMIMEFingerprint, len(o.Key.SMIME), o.Key.Fingerprint, want)
	}
	if _, err := a.LookupWith(ctxT(t), "dave@example.net", LookupOptions{NoWKD: true}); !errors.Is(err, lookup.ErrNotFound) {
		t.Errorf("dave, in no received mail: got %v, want lookup.ErrNotFound", err)
	}
}
