package agent

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/endymail/endymail/device"
	"github.com/endymail/endymail/mesh/client"
	"github.com/endymail/endymail/mesh/proto"
)

// ConnectResult is what a new device learned when its request was answered.
type ConnectResult struct {
	Account string
	Device  string
	Admin   bool
	Bundles []string // names of the bundles this device can now open
	// ApprovedBy names the admin device that approved, so that a user who
	// did not approve on that device notices.
	ApprovedBy string
}

// approver returns the name of the admin device that signed log entry seq.
func approver(s *session, seq uint64) string {
	if seq >= uint64(len(s.acct.Log)) {
		return ""
	}
	e, err := proto.ParseEntry(s.acct.Log[seq].Payload)
	if err != nil {
		return ""
	}
	for _, d := range s.st.Devices {
		if proto.KeyID(d.Profile.SignKey) == e.Signer {
			return d.Profile.Name
		}
	}
	return "the account's root key"
}

// ConnectOptions say which account to join, where, and as what.
type ConnectOptions struct {
	Address    string        // an address of the account
	Mesh       string        // the mesh service's URL
	DeviceName string        // this device's name, shown on the admin device
	Timeout    time.Duration // how long to wait for the answer
	// Account, when set, is the account fingerprint (UDF) the user read on
	// an admin device (`endymail status`): the connection is refused before
	// anything is posted if the mesh answers for the address with another
	// account. Without it a hostile mesh could lead this device into an
	// account of its own, whose "admin" approves it.
	Account string
}

// ErrOtherAccount means the mesh answered for the address with another
// account than the one pinned in ConnectOptions.Account.
var ErrOtherAccount = errors.New("the mesh answers for this address with another account")

// Connect asks to join the account of opt.Address from this (new) device.
// It posts a connection request, calls showCode with the witness code the
// user compares with the admin device's screen, and waits up to
// opt.Timeout for the answer. On approval it verifies the log and every
// bundle wrapped to it.
func (a *Agent) Connect(ctx context.Context, opt ConnectOptions, showCode func(code string)) (*ConnectResult, error) {
	address, err := proto.NormalizeAddress(opt.Address)
	if err != nil {
		return nil, err
	}
	if acct, err := a.home.Account(); err == nil && acct.Pending == nil {
		return nil, ErrHasAccount
	} else if err != nil && !errors.Is(err, device.ErrNoAccount) {
		return nil, err
	}
	mc, err := client.New(opt.Mesh)
	if err != nil {
		return nil, err
	}
	keys, err := a.deviceKeys(opt.DeviceName)
	if err != nil {
		return nil, err
	}
	s, err := a.fetchAccount(ctx, mc, address)
	if err != nil {
		return nil, err
	}
	if opt.Account != "" && !sameAccount(opt.Account, s.st.Account) {
		return nil, fmt.Errorf("%w: %s is account %s, not %s", ErrOtherAccount, address, s.st.Account, opt.Account)
	}
	s.keys = keys
	if err := a.postRequest(ctx, s, showCode); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	return a.awaitAnswer(ctx, s)
}

// sameAccount compares account fingerprints as a user may type them:
// case and the dashes between groups do not matter, and a prefix of at
// least 20 characters (100 bits, as the witness code) is enough.
func sameAccount(typed, account string) bool {
	norm := func(s string) string { return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "")) }
	t, acct := norm(typed), norm(account)
	return len(t) >= 20 && strings.HasPrefix(acct, t)
}

// postRequest signs and posts the connection request and shows the code.
func (a *Agent) postRequest(ctx context.Context, s *session, showCode func(string)) error {
	nonce := make([]byte, 32)
	rand.Read(nonce)
	req := proto.ConnectRequest{V: proto.Version, Account: s.st.Account, Device: s.keys.Profile(), ClientNonce: nonce, Time: a.now().UTC()}
	env, err := s.keys.Sign(proto.ContextConnect, mustJSON(req))
	if err != nil {
		return err
	}
	a.progress("solving the proof of work the mesh asks for connection requests")
	s.mesh.Progress = func(tries uint64) { a.progress("  %d million tries", tries/1_000_000) }
	ri, err := s.mesh.PostRequest(ctx, s.st.Account, env)
	if err != nil {
		return fmt.Errorf("posting the connection request: %w", err)
	}
	if len(ri.ServerNonce) < 16 || ri.ID == "" {
		return fmt.Errorf("%w: the mesh answered the request without an id or server nonce", proto.ErrMalformed)
	}
	code := proto.Witness(s.st.Account, s.keys.ID(), nonce, ri.ServerNonce)
	s.acct.Pending = &device.Pending{Request: ri.ID, ClientNonce: nonce, ServerNonce: ri.ServerNonce, Code: code}
	if err := a.home.SaveAccount(s.acct); err != nil {
		return err
	}
	showCode(code)
	return nil
}

// awaitAnswer long-polls the request until it is answered, then verifies
// what the answer claims against the log.
func (a *Agent) awaitAnswer(ctx context.Context, s *session) (*ConnectResult, error) {
	p := s.acct.Pending
	for {
		ri, err := s.mesh.Request(ctx, s.st.Account, p.Request, proto.MaxWait-5*time.Second)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("no answer to the connection request in time (it stays pending; run connect again to wait more): %w", ctx.Err())
			}
			return nil, err
		}
		switch ri.State {
		case proto.StatePending:
			continue
		case proto.StateExpired:
			return nil, a.dropPending(s, ErrExpired)
		case proto.StateDenied:
			return nil, a.denied(s, ri)
		case proto.StateApproved:
			return a.approved(ctx, s)
		default:
			return nil, fmt.Errorf("%w: request state %q", proto.ErrMalformed, ri.State)
		}
	}
}

// approved verifies that the log holds a device-add entry for exactly this
// request and these keys, then opens every bundle wrapped to the device.
func (a *Agent) approved(ctx context.Context, s *session) (*ConnectResult, error) {
	if err := a.sync(ctx, s); err != nil {
		return nil, err
	}
	p := s.acct.Pending
	d := s.st.Devices[s.keys.ID()]
	if d == nil || d.Request == nil || d.Request.ID != p.Request ||
		string(d.Request.ClientNonce) != string(p.ClientNonce) || string(d.Request.ServerNonce) != string(p.ServerNonce) {
		return nil, fmt.Errorf("%w: the mesh says the request was approved, but the log holds no approval of this request and these keys", proto.ErrRejected)
	}
	s.acct.Pending = nil
	if err := a.home.SaveAccount(s.acct); err != nil {
		return nil, err
	}
	res := &ConnectResult{Account: s.st.Account, Device: s.keys.ID(), Admin: d.Admin, ApprovedBy: approver(s, d.Added)}
	for _, name := range sortedKeys(s.st.Bundles) {
		if _, err := a.openBundle(ctx, s, name); err != nil {
			return res, err
		}
		res.Bundles = append(res.Bundles, name)
	}
	return res, nil
}

// denied checks that an admin of the account signed the denial.
func (a *Agent) denied(s *session, ri proto.RequestInfo) error {
	if ri.Answer == nil {
		return fmt.Errorf("%w: the mesh reports a denial without the admin's signed answer", proto.ErrRejected)
	}
	ans, err := proto.ParseAnswer(ri.Answer.Payload)
	if err != nil {
		return err
	}
	key, ok := s.st.SignerKey(ans.Signer)
	if !ok || ri.Answer.Verify(proto.ContextAnswer, key) != nil || ans.Approve ||
		ans.Request != s.acct.Pending.Request || string(ans.ClientNonce) != string(s.acct.Pending.ClientNonce) {
		return fmt.Errorf("%w: the denial is not signed by an admin device for this request", proto.ErrRejected)
	}
	return a.dropPending(s, ErrDenied)
}

// dropPending forgets the request (and the account, which this device never
// joined) and returns err.
func (a *Agent) dropPending(s *session, err error) error {
	if rmErr := removeFile(a.home.Path("account.json")); rmErr != nil {
		return rmErr
	}
	return err
}
