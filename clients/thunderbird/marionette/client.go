// Package marionette is a small client for Mozilla's Marionette remote
// protocol, enough to drive Thunderbird's chrome context from tests.
//
// The wire format: TCP, each message framed as `LEN:JSON`; commands are
// `[0, id, name, params]`, replies `[1, id, error, result]`. The server greets
// with a hello object on connect.
//
// Use [Dial], then [Client.NewSession], [Client.SetContext] with
// [ContextChrome], [Client.SetScriptTimeout] and [Client.ExecuteAsyncScript].
// Scripts run in the privileged "system" sandbox. [Client.Quit] shuts the
// application down cleanly. A failed command returns an [*Error] carrying
// Marionette's error code, message and stack trace.
package marionette

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Contexts accepted by [Client.SetContext].
const (
	ContextChrome  = "chrome"
	ContextContent = "content"
)

// ErrBroken is returned by every call after a transport failure or an
// interrupted call left the stream in an unknown state.
var ErrBroken = errors.New("marionette connection broken by an earlier error")

// Error is a command failure reported by the Marionette server.
type Error struct {
	Command    string `json:"-"`
	Code       string `json:"error"` // WebDriver error code, e.g. "javascript error"
	Message    string `json:"message"`
	Stacktrace string `json:"stacktrace"`
	// Data is the optional extra detail, e.g. {"text": ...} with the
	// dialog text of an "unexpected alert open" error.
	Data json.RawMessage `json:"data,omitempty"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("marionette %s: %s: %s", e.Command, e.Code, e.Message)
}

// Hello is the greeting the server sends on connect.
type Hello struct {
	ApplicationType string `json:"applicationType"`
	Protocol        int    `json:"marionetteProtocol"`
}

// Client is one Marionette connection. Its methods are safe for concurrent
// use; commands are sent one at a time.
type Client struct {
	mu     sync.Mutex
	conn   net.Conn
	r      *bufio.Reader
	nextID uint64
	broken error
	hello  Hello
}

// Dial connects to the Marionette server at addr (host:port) and reads its
// hello message.
func Dial(ctx context.Context, addr string) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("marionette dial %s: %w", addr, err)
	}
	c := &Client{conn: conn, r: bufio.NewReader(conn)}
	stop := c.watch(ctx)
	body, err := ReadFrame(c.r)
	stop()
	if err == nil {
		err = json.Unmarshal(body, &c.hello)
		if err == nil && c.hello.Protocol == 0 {
			err = fmt.Errorf("%w: hello %s has no marionetteProtocol", ErrProtocol, body)
		}
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("marionette hello from %s: %w", addr, ctxErr(ctx, err))
	}
	return c, nil
}

// Hello returns the server's greeting.
func (c *Client) Hello() Hello { return c.hello }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Call sends command name with params (marshalled to JSON; nil sends {})
// and returns the raw result. A server-side failure is an [*Error].
func (c *Client) Call(ctx context.Context, name string, params any) (json.RawMessage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return nil, fmt.Errorf("marionette %s: %w (%v)", name, ErrBroken, c.broken)
	}
	if params == nil {
		params = struct{}{}
	}
	c.nextID++
	id := c.nextID
	msg, err := json.Marshal([]any{0, id, name, params})
	if err != nil {
		return nil, fmt.Errorf("marionette %s: encoding params: %w", name, err)
	}
	stop := c.watch(ctx)
	defer stop()
	if _, err := c.conn.Write(AppendFrame(nil, msg)); err != nil {
		return nil, c.fail(ctx, name, err)
	}
	for {
		body, err := ReadFrame(c.r)
		if err != nil {
			return nil, c.fail(ctx, name, err)
		}
		rep, err := parseReply(body)
		if err != nil {
			return nil, c.fail(ctx, name, err)
		}
		if rep.id < id {
			continue // a late reply to an earlier, abandoned command
		}
		if rep.id != id {
			return nil, c.fail(ctx, name, fmt.Errorf("%w: reply id %d, want %d", ErrProtocol, rep.id, id))
		}
		if rep.err != nil {
			rep.err.Command = name
			return nil, rep.err
		}
		return rep.result, nil
	}
}

// fail marks the client broken and returns the wrapped error.
func (c *Client) fail(ctx context.Context, name string, err error) error {
	err = ctxErr(ctx, err)
	c.broken = err
	return fmt.Errorf("marionette %s: %w", name, err)
}

// watch interrupts blocked reads and writes when ctx ends (by moving the
// connection's deadline into the past), until the returned function is
// called. The deadline is set only after ctx is done, so the interrupted
// call sees ctx.Err().
func (c *Client) watch(ctx context.Context) (stop func()) {
	cancel := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Unix(1, 0)) })
	return func() {
		cancel()
		c.conn.SetDeadline(time.Time{})
	}
}

// ctxErr prefers the context's error when ctx ended: the interrupted
// read or write reports an i/o timeout that hides the cause.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w (%v)", cerr, err)
	}
	return err
}
