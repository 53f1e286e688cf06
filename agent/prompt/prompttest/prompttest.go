// Package prompttest runs a private D-Bus session bus and a freedesktop
// notification server on it, speaking the real D-Bus protocol, for tests
// of the approval prompt.
//
// Use [StartBus], then [StartServer] with the action the "user" clicks.
package prompttest

import (
	"bufio"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/endymail/endymail/internal/interop"
)

// StartBus runs `dbus-daemon --session` for the test and returns its
// address. It skips (fails under ENDYMAIL_REQUIRE_INTEROP=1) without the
// Debian package dbus.
func StartBus(t testing.TB) string {
	t.Helper()
	bin := interop.Need(t, "dbus-daemon", "dbus")
	cmd := exec.Command(bin, "--session", "--nofork", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v", err)
	}
	return strings.TrimSpace(line)
}

// Notification is what the server received in one Notify call.
type Notification struct {
	ID      uint32
	App     string
	Summary string
	Body    string
	Actions []string
}

// Server is a notification server that answers every notification by
// invoking one action after a short delay, as a user clicking it.
type Server struct {
	conn   *dbus.Conn
	action string // "" means never answer

	mu     sync.Mutex
	next   uint32
	notes  []Notification
	closed []uint32
}

const (
	path  = dbus.ObjectPath("/org/freedesktop/Notifications")
	iface = "org.freedesktop.Notifications"
)

// StartServer connects to the bus at addr, owns the name
// org.freedesktop.Notifications and exports the server at
// /org/freedesktop/Notifications.
func StartServer(t testing.TB, addr, action string) *Server {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s := &Server{conn: conn, action: action}
	if err := conn.Export(s, path, iface); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName(iface, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning %s: reply %v, %v", iface, reply, err)
	}
	return s
}

// Notify is org.freedesktop.Notifications.Notify.
func (s *Server) Notify(app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	s.mu.Lock()
	s.next++
	id := s.next
	s.notes = append(s.notes, Notification{ID: id, App: app, Summary: summary, Body: body, Actions: actions})
	s.mu.Unlock()
	if s.action != "" {
		go func() {
			time.Sleep(50 * time.Millisecond)
			s.conn.Emit(path, iface+".ActionInvoked", id, s.action)
			s.conn.Emit(path, iface+".NotificationClosed", id, uint32(2))
		}()
	}
	return id, nil
}

// CloseNotification is org.freedesktop.Notifications.CloseNotification.
func (s *Server) CloseNotification(id uint32) *dbus.Error {
	s.mu.Lock()
	s.closed = append(s.closed, id)
	s.mu.Unlock()
	s.conn.Emit(path, iface+".NotificationClosed", id, uint32(3))
	return nil
}

// GetCapabilities is org.freedesktop.Notifications.GetCapabilities.
func (s *Server) GetCapabilities() ([]string, *dbus.Error) {
	return []string{"actions", "body"}, nil
}

// GetServerInformation is org.freedesktop.Notifications.GetServerInformation.
func (s *Server) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "prompttest", "endymail", "1", "1.2", nil
}

// Notifications returns what was shown so far.
func (s *Server) Notifications() []Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Notification(nil), s.notes...)
}

// Closed returns the IDs the client withdrew.
func (s *Server) Closed() []uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint32(nil), s.closed...)
}
