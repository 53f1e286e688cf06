package agent

import (
	"context"
	"time"

	"github.com/endymail/endymail/mesh/client"
	"github.com/endymail/endymail/mesh/proto"
)

// Events long-polls the mesh, for up to wait, until the account's log head
// passes after or its connection requests' revision differs from rev, and
// returns the service's current head and revision. It trusts nothing: the
// answer only says when to sync. It fails with device.ErrNoAccount when the
// device has no account yet.
func (a *Agent) Events(ctx context.Context, after, rev uint64, wait time.Duration) (proto.Events, error) {
	acct, err := a.home.Account()
	if err != nil {
		return proto.Events{}, err
	}
	mc, err := client.New(acct.Mesh)
	if err != nil {
		return proto.Events{}, err
	}
	return mc.Events(ctx, acct.Account, after, rev, wait)
}
