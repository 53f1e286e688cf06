// Package client talks to a mesh service over HTTP. It moves bytes and
// decodes the API's JSON; it trusts nothing it receives: callers verify logs
// and bundles with package proto.
package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/endymail/endymail/mesh/pow"
	"github.com/endymail/endymail/mesh/proto"
)

// maxResponse caps what the client reads of any answer.
const maxResponse = 4 << 20

// Client is a mesh service client.
type Client struct {
	base *url.URL
	http *http.Client
	// Progress, when set, is called while solving a proof of work.
	Progress func(tries uint64)
}

// New returns a client for the service at baseURL (http or https).
func New(baseURL string) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("mesh URL %q: want http://HOST:PORT or https://HOST", baseURL)
	}
	return &Client{base: u, http: &http.Client{Timeout: proto.MaxWait + 15*time.Second}}, nil
}

// URL returns the service's base URL.
func (c *Client) URL() string { return c.base.String() }

// do sends a request and decodes a JSON answer into out (if not nil).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body []byte, hdr http.Header, out any) error {
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("mesh service unreachable: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return fmt.Errorf("mesh service: reading answer: %w", err)
	}
	if len(data) > maxResponse {
		return fmt.Errorf("mesh service: answer exceeds %d bytes", maxResponse)
	}
	if resp.StatusCode >= 300 {
		var we proto.WireError
		if json.Unmarshal(data, &we) != nil || we.Error.Code == "" {
			return fmt.Errorf("mesh service: %w: HTTP %d", proto.ErrServer, resp.StatusCode)
		}
		return proto.ErrorFromWire(resp.StatusCode, we)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("mesh service: malformed answer to %s %s: %w", method, path, err)
	}
	return nil
}

func (c *Client) getJSON(ctx context.Context, path string, q url.Values, out any) error {
	return c.do(ctx, http.MethodGet, path, q, nil, nil, out)
}

func (c *Client) sendJSON(ctx context.Context, method, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.do(ctx, method, path, nil, b, nil, out)
}

// withPoW fetches a challenge, solves it bound to body and sends the request.
func (c *Client) withPoW(ctx context.Context, purpose, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	var ch proto.Challenge
	if err := c.getJSON(ctx, "/v1/challenge", url.Values{"purpose": {purpose}}, &ch); err != nil {
		return err
	}
	if ch.Bits < 0 || ch.Bits > 40 {
		return fmt.Errorf("mesh service asks for %d bits of proof of work, refusing more than 40", ch.Bits)
	}
	bind := sha256.Sum256(body)
	sol, err := pow.Solve(ctx, ch.Token, ch.Bits, bind[:], c.Progress)
	if err != nil {
		return fmt.Errorf("proof of work: %w", err)
	}
	hdr := http.Header{proto.PoWHeader: {ch.Token + "." + base64.RawURLEncoding.EncodeToString(sol)}}
	return c.do(ctx, http.MethodPost, path, nil, body, hdr, out)
}

// Health checks the service.
func (c *Client) Health(ctx context.Context) (proto.Health, error) {
	var h proto.Health
	err := c.getJSON(ctx, "/v1/health", nil, &h)
	return h, err
}

// CreateAccount posts a new account's first entries with a proof of work.
func (c *Client) CreateAccount(ctx context.Context, entries []proto.Envelope) (proto.AccountInfo, error) {
	var ai proto.AccountInfo
	err := c.withPoW(ctx, proto.PurposeAccount, "/v1/accounts", proto.CreateAccount{Entries: entries}, &ai)
	return ai, err
}

// FindAccount looks an account up by its handle (address).
func (c *Client) FindAccount(ctx context.Context, handle string) (proto.AccountInfo, error) {
	var ai proto.AccountInfo
	err := c.getJSON(ctx, "/v1/accounts", url.Values{"handle": {handle}}, &ai)
	return ai, err
}

func acctPath(account string, rest ...string) string {
	p := "/v1/accounts/" + url.PathEscape(account)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

// Log reads the account's log from sequence number from on, following pages
// up to the head the service reports.
func (c *Client) Log(ctx context.Context, account string, from uint64) (head uint64, entries []proto.Envelope, err error) {
	for {
		var page proto.LogPage
		q := url.Values{"from": {fmt.Sprint(from)}}
		if err := c.getJSON(ctx, acctPath(account, "log"), q, &page); err != nil {
			return 0, nil, err
		}
		entries = append(entries, page.Entries...)
		if len(page.Entries) == 0 || from+uint64(len(page.Entries)) > page.Head {
			return page.Head, entries, nil
		}
		from += uint64(len(page.Entries))
		if len(entries) > 1<<20 {
			return 0, nil, errors.New("mesh service: log too long")
		}
	}
}

// Append appends signed entries to the account's log.
func (c *Client) Append(ctx context.Context, account string, entries ...proto.Envelope) (proto.AccountInfo, error) {
	var ai proto.AccountInfo
	err := c.sendJSON(ctx, http.MethodPost, acctPath(account, "log"), proto.AppendEntries{Entries: entries}, &ai)
	return ai, err
}

// Events long-polls for a log head beyond after or a request revision other
// than rev, for up to wait.
func (c *Client) Events(ctx context.Context, account string, after, rev uint64, wait time.Duration) (proto.Events, error) {
	var ev proto.Events
	q := url.Values{"after": {fmt.Sprint(after)}, "rev": {fmt.Sprint(rev)}, "wait": {fmt.Sprint(int(wait / time.Second))}}
	err := c.getJSON(ctx, acctPath(account, "events"), q, &ev)
	return ev, err
}

// PutBlob uploads a signed sealed bundle.
func (c *Client) PutBlob(ctx context.Context, account string, env proto.Envelope) error {
	return c.sendJSON(ctx, http.MethodPut, acctPath(account, "blobs", proto.BlobID(env.Payload)), env, nil)
}

// Blob downloads a sealed bundle by BlobID.
func (c *Client) Blob(ctx context.Context, account, blobID string) (proto.Envelope, error) {
	var env proto.Envelope
	err := c.getJSON(ctx, acctPath(account, "blobs", blobID), nil, &env)
	return env, err
}

// PostRequest posts a signed connection request with a proof of work.
func (c *Client) PostRequest(ctx context.Context, account string, env proto.Envelope) (proto.RequestInfo, error) {
	var ri proto.RequestInfo
	err := c.withPoW(ctx, proto.PurposeConnect, acctPath(account, "requests"), env, &ri)
	return ri, err
}

// Requests lists the account's connection requests.
func (c *Client) Requests(ctx context.Context, account string) ([]proto.RequestInfo, error) {
	var l proto.RequestList
	err := c.getJSON(ctx, acctPath(account, "requests"), nil, &l)
	return l.Requests, err
}

// Request reads one request, waiting up to wait while it is pending.
func (c *Client) Request(ctx context.Context, account, id string, wait time.Duration) (proto.RequestInfo, error) {
	var ri proto.RequestInfo
	err := c.getJSON(ctx, acctPath(account, "requests", id), url.Values{"wait": {fmt.Sprint(int(wait / time.Second))}}, &ri)
	return ri, err
}

// Answer posts an admin's signed answer to a request.
func (c *Client) Answer(ctx context.Context, account, id string, env proto.Envelope) (proto.RequestInfo, error) {
	var ri proto.RequestInfo
	err := c.sendJSON(ctx, http.MethodPost, acctPath(account, "requests", id, "answer"), env, &ri)
	return ri, err
}

// Lookup asks the service which account publishes addr and returns that
// account's whole log, unverified: verify it with proto.Replay. A service
// that knows no key for addr answers an error wrapping proto.ErrNotFound.
func (c *Client) Lookup(ctx context.Context, addr string) (proto.Lookup, error) {
	var l proto.Lookup
	err := c.getJSON(ctx, "/v1/lookup", url.Values{"addr": {addr}}, &l)
	return l, err
}
