package prompt

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/endymail/endymail/agent/prompt/prompttest"
)

var req = Request{ID: "R1", Name: "laptop", Code: "ABCD-EFGH-IJKL-MNOP-QRST", Expires: time.Now().Add(time.Minute)}

func askOn(t *testing.T, addr string, timeout time.Duration) (Answer, error) {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return NewDBus(conn).Ask(ctx, req)
}

func TestDBusApprove(t *testing.T) {
	addr := prompttest.StartBus(t)
	srv := prompttest.StartServer(t, addr, ActionApprove)
	ans, err := askOn(t, addr, 10*time.Second)
	if err != nil || ans != Approve {
		t.Fatalf("got %v, %v; want approved", ans, err)
	}
	notes := srv.Notifications()
	if len(notes) != 1 {
		t.Fatalf("got %d notifications, want 1", len(notes))
	}
	n := notes[0]
	if !strings.Contains(n.Body, `"laptop"`) || !strings.Contains(n.Body, req.Code) {
		t.Errorf("body %q does not show the device name and the code", n.Body)
	}
	if strings.Join(n.Actions, ",") != "approve,Approve,deny,Deny" {
		t.Errorf("actions: got %q", n.Actions)
	}
}

func TestDBusDeny(t *testing.T) {
	addr := prompttest.StartBus(t)
	prompttest.StartServer(t, addr, ActionDeny)
	if ans, err := askOn(t, addr, 10*time.Second); err != nil || ans != Deny {
		t.Fatalf("got %v, %v; want denied", ans, err)
	}
}

// An unanswered prompt is withdrawn when its context ends (the request
// expires).
func TestDBusUnansweredIsWithdrawn(t *testing.T) {
	addr := prompttest.StartBus(t)
	srv := prompttest.StartServer(t, addr, "")
	if ans, err := askOn(t, addr, 300*time.Millisecond); err != nil || ans != Unanswered {
		t.Fatalf("got %v, %v; want unanswered", ans, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(srv.Closed()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := srv.Closed(); len(got) != 1 {
		t.Errorf("withdrawn notifications: got %v, want the one shown", got)
	}
}

func TestDBusNoServer(t *testing.T) {
	addr := prompttest.StartBus(t)
	if _, err := askOn(t, addr, 5*time.Second); err == nil {
		t.Error("asking without a notification server: got no error")
	}
}
