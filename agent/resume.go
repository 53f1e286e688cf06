package agent

import (
	"context"
	"errors"
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
	s, err := a.open()
	if err != nil {
		return nil, err
	}
	if s.acct.Pending == nil {
		return nil, ErrNotPending
	}
	return a.awaitAnswer(ctx, s)
}
