package agent

import (
	"context"
	"crypto/hpke"
	"errors"
	"fmt"

	"github.com/endymail/endymail/device"
	"github.com/endymail/endymail/mesh/client"
	"github.com/endymail/endymail/mesh/proto"
	"github.com/endymail/endymail/udf"
)

// ErrWrongShares means the shares do not rebuild this account's root key.
var ErrWrongShares = errors.New("the recovery shares do not belong to this account")

// Recover makes this (new) device an admin of the account of address from
// recovery shares, for when no admin device is left: the shares rebuild the
// root seed, the root key signs this device in, and every bundle (sealed also
// to the recovery key the seed derives) is sealed again to the devices. The
// seed is forgotten afterwards.
func (a *Agent) Recover(ctx context.Context, address, meshURL, deviceName string, shares []string) (*ConnectResult, error) {
	address, err := proto.NormalizeAddress(address)
	if err != nil {
		return nil, err
	}
	if _, err := a.home.Account(); err == nil {
		return nil, ErrHasAccount
	} else if !errors.Is(err, device.ErrNoAccount) {
		return nil, err
	}
	seed, err := joinShares(shares)
	if err != nil {
		return nil, err
	}
	defer clear(seed)
	root, err := proto.SigningKeyFromSeed(seed)
	if err != nil {
		return nil, err
	}
	mc, err := client.New(meshURL)
	if err != nil {
		return nil, err
	}
	s, err := a.fetchAccount(ctx, mc, address)
	if err != nil {
		return nil, err
	}
	if root.ID() != proto.KeyID(s.st.RootKey) {
		return nil, ErrWrongShares
	}
	if s.keys, err = a.deviceKeys(deviceName); err != nil {
		return nil, err
	}
	rkem, err := proto.RecoveryKEM(seed)
	if err != nil {
		return nil, err
	}
	if err := a.recoverInto(ctx, s, root, rkem); err != nil {
		return nil, err
	}
	res := &ConnectResult{Account: s.st.Account, Device: s.keys.ID(), Admin: true, Bundles: sortedKeys(s.st.Bundles)}
	return res, nil
}

// joinShares parses and joins the recovery shares.
func joinShares(texts []string) ([]byte, error) {
	var shares []udf.Share
	for _, t := range texts {
		sh, err := udf.ParseShare(t)
		if err != nil {
			return nil, fmt.Errorf("recovery share %q: %w", t, err)
		}
		shares = append(shares, sh)
	}
	seed, err := udf.Recover(shares)
	if err != nil {
		return nil, fmt.Errorf("joining the recovery shares: %w", err)
	}
	return seed, nil
}

// fetchAccount reads and verifies an account's whole log from the mesh.
func (a *Agent) fetchAccount(ctx context.Context, mc *client.Client, address string) (*session, error) {
	info, err := mc.FindAccount(ctx, address)
	if err != nil {
		return nil, fmt.Errorf("finding the account of %s: %w", address, err)
	}
	head, log, err := mc.Log(ctx, info.Account, 0)
	if err != nil {
		return nil, err
	}
	st, err := proto.Replay(log)
	if err != nil {
		return nil, fmt.Errorf("verifying the account log from the mesh: %w", err)
	}
	if st.Seq != head {
		return nil, fmt.Errorf("%w: service claims head %d but sent entries only to %d", proto.ErrSequence, head, st.Seq)
	}
	if st.Account != info.Account || st.Handle != address {
		return nil, fmt.Errorf("%w: the mesh answered with account %s (%s) for %s", proto.ErrWrongAccount, st.Account, st.Handle, address)
	}
	return &session{mesh: mc, st: st, acct: &device.Account{Mesh: mc.URL(), Account: st.Account, Handle: address, Log: log}}, nil
}

// recoverInto appends, signed by the root key, this device as an admin,
// then (as that admin) every bundle sealed again from the recovery wrap.
func (a *Agent) recoverInto(ctx context.Context, s *session, root *proto.SigningKey, rkem hpke.PrivateKey) error {
	e := &proto.Entry{V: proto.Version, Account: s.st.Account, Seq: s.st.Seq + 1, Prev: s.st.Head, Time: a.now().UTC(),
		Signer: root.ID(), Kind: proto.KindDeviceAdd, DeviceAdd: &proto.DeviceAdd{Device: s.keys.Profile(), Admin: true}}
	env, err := proto.Sign(proto.ContextEntry, e.Marshal(), root)
	if err != nil {
		return err
	}
	contents := map[string][]byte{}
	for _, name := range sortedKeys(s.st.Bundles) {
		ref := s.st.Bundles[name]
		blob, err := s.mesh.Blob(ctx, s.st.Account, ref.Digest)
		if err != nil {
			return fmt.Errorf("fetching bundle %s: %w", name, err)
		}
		c, err := proto.OpenBundle(blob.Payload, s.st.Account, ref, proto.RecoveryWrap, rkem)
		if err != nil {
			return fmt.Errorf("opening bundle %s with the recovery key: %w", name, err)
		}
		contents[name] = c
	}
	// The device-add goes first on its own: the service takes bundle uploads
	// only from a device the log already names as an admin.
	first := s.batch(a.now())
	if err := first.st.Apply(env); err != nil {
		return fmt.Errorf("own recovery entry does not verify: %w", err)
	}
	first.envs = append(first.envs, env)
	if err := a.commit(ctx, first); err != nil {
		return fmt.Errorf("adding this device with the root key: %w", err)
	}
	b := s.batch(a.now())
	for _, name := range sortedKeys(contents) {
		err := a.sealInto(ctx, s, b, name, contents[name])
		clear(contents[name])
		if err != nil {
			return err
		}
	}
	return a.commit(ctx, b)
}
