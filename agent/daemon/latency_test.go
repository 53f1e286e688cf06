package daemon_test

import (
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/agent/daemon"
	"github.com/endymail/endymail/mesh/client"
)

// TestApprovalLatency measures, over DAEMON_LATENCY_RUNS new devices, the
// time from the approval through A's local API to B's client being
// configured by B's daemon, next to a mesh round trip (the floor). It
// prints figures and asserts nothing about time.
func TestApprovalLatency(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("DAEMON_LATENCY_RUNS"))
	if runs == 0 {
		t.Skip("set DAEMON_LATENCY_RUNS=20 to measure")
	}
	m := startMesh(t)
	a := newAdmin(t, m.URL())
	api := serveAPI(t, a)
	mc, _ := client.New(m.URL())
	var total, approve, rtt []time.Duration
	for i := range runs {
		rec := newRecorder(alice)
		b := newDevice(t, rec)
		_, stop := runDaemon(t, b, daemon.Config{})
		c := startConnect(t, b, m.URL(), "device-"+strconv.Itoa(i))
		code := c.waitCode(t)
		time.Sleep(100 * time.Millisecond) // B's daemon settles into its long poll
		t0 := time.Now()
		mc.Health(ctxT(t))
		rtt = append(rtt, time.Since(t0))
		start := time.Now()
		if _, err := api.Approve(ctxT(t), agent.ApproveOptions{Code: code}); err != nil {
			t.Fatal(err)
		}
		approve = append(approve, time.Since(start))
		total = append(total, rec.waitApplied(t, alice, 20*time.Second).Sub(start))
		c.wait(t)
		stop()
	}
	for _, f := range []struct {
		name string
		d    []time.Duration
	}{{"approval → B configured", total}, {"approve call alone", approve}, {"mesh round trip (floor)", rtt}} {
		slices.Sort(f.d)
		p95 := f.d[min(len(f.d)-1, (len(f.d)*95+99)/100-1)]
		t.Logf("%-26s runs %d  median %7.1f ms  p95 %7.1f ms", f.name, len(f.d), ms(f.d[len(f.d)/2]), ms(p95))
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
