package prompt

import (
	"context"
	"fmt"

	"github.com/godbus/dbus/v5"
)

// The freedesktop notification service (Desktop Notifications
// Specification 1.2).
const (
	notifyName  = "org.freedesktop.Notifications"
	notifyPath  = dbus.ObjectPath("/org/freedesktop/Notifications")
	notifyIface = "org.freedesktop.Notifications"
)

// Action keys of the notification's buttons.
const (
	ActionApprove = "approve"
	ActionDeny    = "deny"
)

// DBus asks through the freedesktop notification service: a notification
// with "Approve" and "Deny" actions, answered by the ActionInvoked signal.
type DBus struct {
	conn *dbus.Conn
}

var _ Prompter = (*DBus)(nil)

// NewDBus returns a prompter on conn, a connection to the user's session
// bus.
func NewDBus(conn *dbus.Conn) *DBus { return &DBus{conn: conn} }

// Ask shows the notification and waits for an action, the notification's
// closing, or the end of ctx (then it withdraws the notification).
func (p *DBus) Ask(ctx context.Context, r Request) (Answer, error) {
	sigs := make(chan *dbus.Signal, 16)
	p.conn.Signal(sigs)
	defer p.conn.RemoveSignal(sigs)
	match := []dbus.MatchOption{dbus.WithMatchObjectPath(notifyPath), dbus.WithMatchInterface(notifyIface)}
	if err := p.conn.AddMatchSignalContext(ctx, match...); err != nil {
		return Unanswered, fmt.Errorf("notification signals: %w", err)
	}
	defer p.conn.RemoveMatchSignal(match...)
	title, body := Text(r)
	hints := map[string]dbus.Variant{"urgency": dbus.MakeVariant(byte(2)), "resident": dbus.MakeVariant(true)}
	obj := p.conn.Object(notifyName, notifyPath)
	var id uint32
	err := obj.CallWithContext(ctx, notifyIface+".Notify", 0, "endymail", uint32(0), "dialog-password", title, body,
		[]string{ActionApprove, "Approve", ActionDeny, "Deny"}, hints, int32(0)).Store(&id)
	if err != nil {
		return Unanswered, fmt.Errorf("showing the notification: %w", err)
	}
	for {
		select {
		case <-ctx.Done():
			obj.Call(notifyIface+".CloseNotification", 0, id)
			return Unanswered, nil
		case s := <-sigs:
			if ans, done := answer(s, id); done {
				return ans, nil
			}
		}
	}
}

// answer reads a signal about notification id: an action, or its closing.
func answer(s *dbus.Signal, id uint32) (Answer, bool) {
	if s == nil || len(s.Body) < 2 {
		return Unanswered, false
	}
	if sid, ok := s.Body[0].(uint32); !ok || sid != id {
		return Unanswered, false
	}
	switch s.Name {
	case notifyIface + ".ActionInvoked":
		switch action, _ := s.Body[1].(string); action {
		case ActionApprove:
			return Approve, true
		case ActionDeny:
			return Deny, true
		}
	case notifyIface + ".NotificationClosed":
		return Unanswered, true
	}
	return Unanswered, false
}
