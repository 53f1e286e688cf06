//go:build linux

package daemon_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/agent/daemon"
	"github.com/endymail/endymail/clients/thunderbird"
	"github.com/endymail/endymail/clients/thunderbird/tbtest"
)

// Two agents against the real service: B connects, A approves through its
// agent's local API, and B's agent configures B's real Thunderbird profile
// with no further command. Thunderbird itself then finds the applied
// certificate valid for mail and the OpenPGP key usable as the user's own
// (checked through Marionette).
func TestNewDeviceThunderbirdConfigured(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real Thunderbird; not in -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	base := tbtest.NewProfile(t)
	tbtest.FirstStart(t, base)
	profile := tbtest.CopyProfile(t, base)
	tb := tbtest.Start(t, profile, tbtest.Options{})
	if _, err := tb.AddMailAccount(ctx, tbtest.Account{Address: alice, Name: "Alice", IMAPPort: 1, SMTPHost: "127.0.0.1", SMTPPort: 1}); err != nil {
		t.Fatal(err)
	}
	if err := tb.Quit(); err != nil {
		t.Fatal(err)
	}

	m := startMesh(t)
	a := newAdmin(t, m.URL())
	api := serveAPI(t, a)
	b, err := agent.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b.Clients = []agent.NamedClient{{Name: "thunderbird", Configurator: thunderbird.New(thunderbird.Options{Profiles: []string{profile}})}}
	runDaemon(t, b, daemon.Config{})
	c := startConnect(t, b, m.URL(), "phone")
	code := c.waitCode(t)
	start := time.Now()
	if _, err := api.Approve(ctx, agent.ApproveOptions{Code: code}); err != nil {
		t.Fatal(err)
	}
	statePath := filepath.Join(b.Home().Dir(), daemon.StateFile)
	var st *daemon.State
	waitFor(t, "B's agent to configure Thunderbird", func() bool {
		st, err = daemon.ReadState(statePath)
		return err == nil && len(st.Addresses[alice]) == 1 && st.Addresses[alice][0].Status != daemon.StatusNoIdentity
	})
	t.Logf("approval → Thunderbird profile configured: %s", time.Since(start))
	if cs := st.Addresses[alice][0]; cs.Status != daemon.StatusConfigured {
		t.Fatalf("B's agent on Thunderbird: got %+v", cs)
	}
	c.wait(t)
	checkThunderbird(t, ctx, profile)
}

// checkThunderbird asks the real Thunderbird whether alice's identity in
// profile has a certificate valid for mail and a usable own OpenPGP key.
func checkThunderbird(t *testing.T, ctx context.Context, profile string) {
	t.Helper()
	tb := tbtest.Start(t, profile, tbtest.Options{})
	defer tb.Quit()
	prefs, err := tb.IdentityPrefs(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	dbkey, _ := prefs["signing_cert_dbkey"].(string)
	keyID, _ := prefs["openpgp_key_id"].(string)
	if dbkey == "" || keyID == "" || prefs["sign_mail"] != true {
		t.Fatalf("identity prefs as Thunderbird reads them: %v", prefs)
	}
	cert, err := tb.CertByDBKey(ctx, dbkey)
	if err != nil {
		t.Fatal(err)
	}
	if !cert.Found || cert.Signer != 0 || cert.Recipient != 0 || cert.Email != alice {
		t.Errorf("Thunderbird's NSS on the dbkey: got %+v, want alice's certificate valid for signing and encryption", cert)
	}
	ks, err := tb.OwnOpenPGPKeyUsable(ctx, keyID)
	if err != nil {
		t.Fatal(err)
	}
	if !ks.Found || !ks.SecretAvailable || !ks.Personal || ks.ErrorMsg != "" {
		t.Errorf("Thunderbird's OpenPGP on key %s: got %+v, want a usable own key", keyID, ks)
	}
}
