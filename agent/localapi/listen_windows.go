package localapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// pipeName is the named pipe of the device home at home for the current
// user: the user's SID and a digest of the home's path make it unique.
func pipeName(home string) (string, *windows.SID, error) {
	sid, err := currentUser()
	if err != nil {
		return "", nil, err
	}
	sum := sha256.Sum256([]byte(strings.ToLower(filepath.Clean(home))))
	return `\\.\pipe\endymail-agent-` + sid.String() + "-" + hex.EncodeToString(sum[:8]), sid, nil
}

func currentUser() (*windows.SID, error) {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("current user: %w", err)
	}
	return u.User.Sid.Copy()
}

// Listen makes the agent's named pipe, which only the current user may
// open (its DACL grants the user's SID alone; remote clients are
// rejected). A pipe of that name already there is ErrRunning. refused is
// not called: Windows refuses other users before a connection exists.
func Listen(home string, refused func(uid int, err error)) (net.Listener, error) {
	name, sid, err := pipeName(home)
	if err != nil {
		return nil, err
	}
	sd, err := windows.SecurityDescriptorFromString("O:" + sid.String() + "D:P(A;;GA;;;" + sid.String() + ")")
	if err != nil {
		return nil, fmt.Errorf("local API pipe security: %w", err)
	}
	l := &pipeListener{name: name, sa: &windows.SecurityAttributes{
		Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{})), SecurityDescriptor: sd}, done: make(chan struct{})}
	h, err := l.instance(true)
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_PIPE_BUSY) {
		return nil, fmt.Errorf("%w (pipe %s)", ErrRunning, name)
	}
	if err != nil {
		return nil, err
	}
	l.next = h
	return l, nil
}

// pipeListener accepts connections on instances of one named pipe.
type pipeListener struct {
	name string
	sa   *windows.SecurityAttributes
	mu   sync.Mutex
	next windows.Handle // the instance waiting for the next client
	done chan struct{}
	once sync.Once
}

func (l *pipeListener) instance(first bool) (windows.Handle, error) {
	flags := uint32(windows.PIPE_ACCESS_DUPLEX)
	if first {
		flags |= windows.FILE_FLAG_FIRST_PIPE_INSTANCE
	}
	name, _ := windows.UTF16PtrFromString(l.name)
	h, err := windows.CreateNamedPipe(name, flags,
		windows.PIPE_TYPE_BYTE|windows.PIPE_READMODE_BYTE|windows.PIPE_WAIT|windows.PIPE_REJECT_REMOTE_CLIENTS,
		windows.PIPE_UNLIMITED_INSTANCES, 64<<10, 64<<10, 0, l.sa)
	if err != nil {
		return 0, fmt.Errorf("local API pipe %s: %w", l.name, err)
	}
	return h, nil
}

// Accept waits for a client on the free instance, having first made a
// spare one, so that a client always finds an instance to open. A client
// that came and went before it was accepted is skipped.
func (l *pipeListener) Accept() (net.Conn, error) {
	for {
		spare, err := l.instance(false)
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		h := l.next
		l.next = spare
		l.mu.Unlock()
		err = windows.ConnectNamedPipe(h, nil)
		select {
		case <-l.done:
			windows.CloseHandle(h)
			return nil, net.ErrClosed
		default:
		}
		switch {
		case err == nil || errors.Is(err, windows.ERROR_PIPE_CONNECTED):
			return &pipeConn{File: os.NewFile(uintptr(h), l.name), name: l.name}, nil
		case errors.Is(err, windows.ERROR_NO_DATA):
			windows.CloseHandle(h)
		default:
			windows.CloseHandle(h)
			return nil, fmt.Errorf("local API pipe: %w", err)
		}
	}
}

// Close stops Accept: it closes the spare instance, then connects to the
// one Accept waits on.
func (l *pipeListener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.mu.Lock()
		windows.CloseHandle(l.next)
		l.mu.Unlock()
		if c, err := dial(context.Background(), l.name); err == nil {
			c.Close()
		}
	})
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr(l.name) }

// pipeConn is one pipe connection, with synchronous I/O (deadlines are not
// supported and ignored).
type pipeConn struct {
	*os.File
	name string
}

func (c *pipeConn) LocalAddr() net.Addr                { return pipeAddr(c.name) }
func (c *pipeConn) RemoteAddr() net.Addr               { return pipeAddr(c.name) }
func (c *pipeConn) SetDeadline(t time.Time) error      { return nil }
func (c *pipeConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *pipeConn) SetWriteDeadline(t time.Time) error { return nil }

type pipeAddr string

func (a pipeAddr) Network() string { return "pipe" }
func (a pipeAddr) String() string  { return string(a) }

// dial opens the agent's pipe for home (or a pipe name) and checks that
// the current user owns it, so that another user's squatting pipe is not
// trusted.
func dial(ctx context.Context, home string) (net.Conn, error) {
	name := home
	if !strings.HasPrefix(home, `\\.\pipe\`) {
		n, _, err := pipeName(filepath.Dir(home)) // home here is the socket path
		if err != nil {
			return nil, err
		}
		name = n
	}
	p, _ := windows.UTF16PtrFromString(name)
	for {
		h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil, windows.OPEN_EXISTING,
			windows.SECURITY_SQOS_PRESENT|windows.SECURITY_IDENTIFICATION, 0)
		if errors.Is(err, windows.ERROR_PIPE_BUSY) && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := checkOwner(h); err != nil {
			windows.CloseHandle(h)
			return nil, err
		}
		return &pipeConn{File: os.NewFile(uintptr(h), name), name: name}, nil
	}
}

func checkOwner(h windows.Handle) error {
	sd, err := windows.GetSecurityInfo(h, windows.SE_KERNEL_OBJECT, windows.OWNER_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("local API pipe owner: %w", err)
	}
	owner, _, err := sd.Owner()
	if err != nil {
		return fmt.Errorf("local API pipe owner: %w", err)
	}
	me, err := currentUser()
	if err != nil {
		return err
	}
	if !owner.Equals(me) {
		return fmt.Errorf("local API pipe is owned by %s, not by this user", owner)
	}
	return nil
}
