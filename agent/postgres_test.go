package agent

import (
	"context"
	"testing"
	"time"

	"github.com/endymail/endymail/mesh/server"
	"github.com/endymail/endymail/mesh/server/servertest"
	"github.com/endymail/endymail/mesh/store/pgstore"
	"github.com/endymail/endymail/mesh/store/pgstore/pgtest"
)

// TestScaleOutOnPostgres runs two stateless service instances on one
// PostgreSQL database: device A talks to one, device B to the other, and the
// connection story works across them: the approval written through one
// instance wakes B's long poll held by the other (LISTEN/NOTIFY), within a
// second.
func TestScaleOutOnPostgres(t *testing.T) {
	dsn := pgtest.Schema(t, pgtest.Start(t), "agent_scaleout")
	urls := make([]string, 2)
	for i := range urls {
		st, err := pgstore.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		urls[i], _ = servertest.Start(t, server.Config{Store: st, PoWKey: []byte("shared key for every instance!!!")})
	}
	a := newAccount(t, urls[0])
	b := openAgent(t)
	c := startConnect(t, b, urls[1], "phone")
	code := c.waitCode(t)
	if _, err := a.Approve(ctxT(t), ApproveOptions{Code: code}); err != nil {
		t.Fatal(err)
	}
	approved := time.Now()
	d := c.wait(t)
	if d.err != nil {
		t.Fatal(d.err)
	}
	if lag := d.at.Sub(approved); lag > time.Second {
		t.Errorf("B learned of the approval through the other instance %s after it, want < 1s", lag)
	}
	got, err := b.GetBundle(ctxT(t), "mail")
	if err != nil || string(got) != "alice's keys" {
		t.Errorf("B's bundle through the other instance: %q %v", got, err)
	}
}
