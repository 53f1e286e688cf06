package localapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/endymail/endymail/agent"
)

// ErrNotRunning means no agent answers on the device home's socket.
var ErrNotRunning = errors.New("no agent is running for this device home")

// Client talks to a running agent.
type Client struct {
	http *http.Client
}

// Connect returns a client for the agent of the device home at home, or
// ErrNotRunning when none answers (no socket, a stale one, or a platform
// without the local API).
func Connect(ctx context.Context, home string) (*Client, error) {
	path := filepath.Join(home, SocketName)
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return dial(ctx, path)
	}}
	c := &Client{http: &http.Client{Transport: tr}}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := dial(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotRunning, err)
	}
	conn.Close()
	return c, nil
}

// Close releases the client's connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Status returns the device's state and what the agent did last.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var st Status
	return &st, c.do(ctx, http.MethodGet, "status", nil, &st)
}

// Pending lists the verified pending connection requests.
func (c *Client) Pending(ctx context.Context) ([]agent.PendingRequest, error) {
	var out []agent.PendingRequest
	return out, c.do(ctx, http.MethodGet, "pending", nil, &out)
}

// Approve approves a request (see agent.Agent.Approve).
func (c *Client) Approve(ctx context.Context, opt agent.ApproveOptions) (*agent.PendingRequest, error) {
	var pr agent.PendingRequest
	err := c.do(ctx, http.MethodPost, "approve", ApproveRequest{Code: opt.Code, ID: opt.ID, Admin: opt.Admin}, &pr)
	if err != nil {
		return nil, err
	}
	return &pr, nil
}

// Deny refuses a request.
func (c *Client) Deny(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "deny", DenyRequest{ID: id}, nil)
}

// Configure makes the agent apply every enabled address to the clients now.
func (c *Client) Configure(ctx context.Context) (map[string][]agent.ClientResult, error) {
	var wire map[string][]ClientResult
	if err := c.do(ctx, http.MethodPost, "configure", struct{}{}, &wire); err != nil {
		return nil, err
	}
	out := map[string][]agent.ClientResult{}
	for addr, rs := range wire {
		for _, r := range rs {
			out[addr] = append(out[addr], agent.ClientResult{Client: r.Client, Report: r.Report, Err: fromWire(r.Error)})
		}
	}
	return out, nil
}

func (c *Client) do(ctx context.Context, method, name string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://endymail-agent/"+Version+"/"+name, body)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("local agent: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("local agent: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e Error
		if json.Unmarshal(data, &e) != nil || e.Message == "" {
			return fmt.Errorf("%w: local agent answered %s", ErrFailed, resp.Status)
		}
		return &e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("local agent: bad answer: %w", err)
	}
	return nil
}
