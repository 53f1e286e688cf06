package agent

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/endymail/endymail/device"
	"github.com/endymail/endymail/mesh/client"
	"github.com/endymail/endymail/mesh/proto"
	"github.com/endymail/endymail/udf"
)

// Recovery policy of new accounts (DESIGN §2).
const (
	recoveryThreshold = 2
	recoveryShares    = 3
)

// InitResult is what creating an account produced.
type InitResult struct {
	Account string
	Handle  string
	Device  string
	Shares  []string // recovery shares: shown once, never stored
}

// Init creates an account for address on the mesh at meshURL with this
// device as its first admin. The root seed is split into recovery shares and
// then forgotten.
func (a *Agent) Init(ctx context.Context, address, meshURL, deviceName string) (*InitResult, error) {
	address, err := proto.NormalizeAddress(address)
	if err != nil {
		return nil, err
	}
	if _, err := a.home.Account(); err == nil {
		return nil, ErrHasAccount
	} else if !errors.Is(err, device.ErrNoAccount) {
		return nil, err
	}
	mc, err := client.New(meshURL)
	if err != nil {
		return nil, err
	}
	keys, err := a.deviceKeys(deviceName)
	if err != nil {
		return nil, err
	}
	seed := make([]byte, 32)
	rand.Read(seed)
	defer clear(seed)
	shares, err := udf.Split(seed, recoveryThreshold, recoveryShares)
	if err != nil {
		return nil, fmt.Errorf("splitting the root seed: %w", err)
	}
	root, err := proto.SigningKeyFromSeed(seed)
	if err != nil {
		return nil, err
	}
	rkem, err := proto.RecoveryKEM(seed)
	if err != nil {
		return nil, err
	}
	log, err := genesisEntries(root, rkem.PublicKey().Bytes(), address, keys, a.now())
	if err != nil {
		return nil, err
	}
	a.progress("solving the proof of work the mesh asks for new accounts")
	mc.Progress = func(tries uint64) { a.progress("  %d million tries", tries/1_000_000) }
	info, err := mc.CreateAccount(ctx, log)
	if err != nil {
		return nil, fmt.Errorf("creating the account: %w", err)
	}
	if err := a.home.SaveAccount(&device.Account{Mesh: mc.URL(), Account: info.Account, Handle: address, Log: log}); err != nil {
		return nil, err
	}
	res := &InitResult{Account: info.Account, Handle: address, Device: keys.ID()}
	for _, s := range shares {
		res.Shares = append(res.Shares, s.String())
	}
	return res, nil
}

// genesisEntries makes the genesis entry and the first admin grant, both
// signed by the root key.
func genesisEntries(root *proto.SigningKey, recoveryKey []byte, address string, keys *device.Keys, now time.Time) ([]proto.Envelope, error) {
	account := proto.AccountID(root.Public())
	g := &proto.Entry{V: proto.Version, Account: account, Seq: 0, Time: now.UTC(), Signer: root.ID(), Kind: proto.KindGenesis,
		Genesis: &proto.Genesis{Handle: address, RootKey: root.Public(), RecoveryKey: recoveryKey,
			Recovery: proto.RecoveryPolicy{Threshold: recoveryThreshold, Shares: recoveryShares}}}
	genv, err := proto.Sign(proto.ContextEntry, g.Marshal(), root)
	if err != nil {
		return nil, err
	}
	d := &proto.Entry{V: proto.Version, Account: account, Seq: 1, Prev: proto.EntryID(genv.Payload), Time: now.UTC(),
		Signer: root.ID(), Kind: proto.KindDeviceAdd, DeviceAdd: &proto.DeviceAdd{Device: keys.Profile(), Admin: true}}
	denv, err := proto.Sign(proto.ContextEntry, d.Marshal(), root)
	if err != nil {
		return nil, err
	}
	log := []proto.Envelope{genv, denv}
	if _, err := proto.Replay(log); err != nil {
		return nil, fmt.Errorf("new account log does not verify: %w", err)
	}
	return log, nil
}

// deviceKeys loads this device's keys, creating them on first use.
func (a *Agent) deviceKeys(name string) (*device.Keys, error) {
	k, err := a.home.Keys()
	if errors.Is(err, device.ErrNoDevice) {
		a.progress("generating this device's keys")
		return a.home.CreateKeys(name)
	}
	return k, err
}
