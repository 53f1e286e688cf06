package agent

import (
	"context"
	"errors"

	"github.com/endymail/endymail/mesh/client"
)

// ErrNotPending means the device has no connection request waiting for an
// answer.
var ErrNotPending = errors.New("this device has no pending connection request")

// AwaitConnection waits, until ctx ends, for the answer to the connection
// request this device posted with [Agent.Connect] (whose command may have
// been interrupted since), and completes the connection as Connect does:
// on approval it verifies the log and every bundle wrapped to the device;
// a denial (ErrDenied) or expiry (ErrExpired) forgets the request.
func (a *Agent) AwaitConnection(ctx context.Context) (*ConnectResult, error) {
	acct, err := a.home.Account()
	if err != nil {
		return nil, err
	}
	if acct.Pending == nil {
		return nil, ErrNotPending
	}
	keys, err := a.home.Keys()
	if err != nil {
		return nil, err
	}
	mc, err := client.New(acct.Mesh)
	if err != nil {
		return nil, err
	}
	st, err := acct.State()
	if err != nil {
		return nil, err
	}
	return a.awaitAnswer(ctx, &session{keys: keys, acct: acct, mesh: mc, st: st})
}
