//go:build unix

package localapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// Listen makes the socket in the device home at home, mode 0600, and
// returns a listener that accepts only connections from this process's
// uid; refused connections are reported to refused (which may be nil). A
// stale socket left by a killed agent is replaced; a live one is
// ErrRunning.
func Listen(home string, refused func(uid int, err error)) (net.Listener, error) {
	path := filepath.Join(home, SocketName)
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return nil, fmt.Errorf("%w (socket %s)", ErrRunning, path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("removing the stale socket: %w", err)
	}
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("local API socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("local API socket: %w", err)
	}
	return &peerListener{Listener: ln, uid: os.Getuid(), refused: refused}, nil
}

// peerListener accepts only connections whose peer has uid.
type peerListener struct {
	net.Listener
	uid     int
	refused func(uid int, err error)
}

func (l *peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		uid, err := peerUID(c)
		if err == nil && uid == l.uid {
			return c, nil
		}
		c.Close()
		if l.refused != nil {
			l.refused(uid, err)
		}
	}
}

// peerUID returns the uid of the process at the other end of a unix
// socket connection.
func peerUID(c net.Conn) (int, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return -1, errors.New("not a unix socket connection")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return -1, err
	}
	uid := -1
	var perr error
	if err := raw.Control(func(fd uintptr) { uid, perr = peerUIDFd(int(fd)) }); err != nil {
		return -1, err
	}
	return uid, perr
}

func dial(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", path)
}
