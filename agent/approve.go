package agent

import (
	"context"
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/endymail/endymail/mesh/proto"
)

// PendingRequest is a connection request awaiting an admin's answer.
type PendingRequest struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Device  string    `json:"device"`
	Code    string    `json:"code"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// Pending lists the verified pending connection requests. Requests whose
// device signature does not verify are left out.
func (a *Agent) Pending(ctx context.Context) ([]PendingRequest, error) {
	s, err := a.open()
	if err != nil {
		return nil, err
	}
	if err := a.sync(ctx, s); err != nil {
		return nil, err
	}
	_, out, err := a.pending(ctx, s)
	return out, err
}

func (a *Agent) pending(ctx context.Context, s *session) ([]proto.RequestInfo, []PendingRequest, error) {
	all, err := s.mesh.Requests(ctx, s.st.Account)
	if err != nil {
		return nil, nil, err
	}
	var infos []proto.RequestInfo
	var out []PendingRequest
	for _, ri := range all {
		if ri.State != proto.StatePending || !a.now().Before(ri.Expires) {
			continue
		}
		req, err := proto.ParseConnectRequest(ri.Request)
		if err != nil || req.Account != s.st.Account {
			continue
		}
		infos = append(infos, ri)
		out = append(out, PendingRequest{ID: ri.ID, Name: req.Device.Name, Device: req.Device.ID(),
			Code: proto.Witness(s.st.Account, req.Device.ID(), req.ClientNonce, ri.ServerNonce), Created: ri.Created, Expires: ri.Expires})
	}
	return infos, out, nil
}

// ApproveOptions selects the request to approve: by the code the user typed
// from the new device's screen (typing it is the comparison), or by ID after
// comparing by eye.
type ApproveOptions struct {
	Code  string
	ID    string
	Admin bool // make the new device an admin too
}

// Approve adds the requesting device to the account and wraps every bundle
// to it.
func (a *Agent) Approve(ctx context.Context, opt ApproveOptions) (*PendingRequest, error) {
	s, err := a.open()
	if err != nil {
		return nil, err
	}
	if err := a.sync(ctx, s); err != nil {
		return nil, err
	}
	if err := s.requireAdmin(); err != nil {
		return nil, err
	}
	infos, reqs, err := a.pending(ctx, s)
	if err != nil {
		return nil, err
	}
	i := choose(reqs, opt)
	if i < 0 {
		if opt.ID != "" {
			return nil, fmt.Errorf("%w: no pending request with id %s", ErrNoMatch, opt.ID)
		}
		return nil, ErrNoMatch
	}
	ri, pr := infos[i], reqs[i]
	req, _ := proto.ParseConnectRequest(ri.Request)
	b := s.batch(a.now())
	err = b.add(proto.KindDeviceAdd, func(e *proto.Entry) {
		e.DeviceAdd = &proto.DeviceAdd{Device: req.Device, Admin: opt.Admin,
			Request: &proto.RequestRef{ID: ri.ID, ClientNonce: req.ClientNonce, ServerNonce: ri.ServerNonce}}
	})
	if err != nil {
		return nil, err
	}
	if err := a.rewrapAll(ctx, s, b); err != nil {
		return nil, err
	}
	if err := a.commit(ctx, b); err != nil {
		return nil, fmt.Errorf("adding the device to the account log: %w", err)
	}
	if err := a.answer(ctx, s, ri.ID, req.ClientNonce, true); err != nil {
		return nil, err
	}
	a.progress("approved %q (%s)", pr.Name, pr.Device)
	return &pr, nil
}

// choose finds the request matching opt, comparing codes in constant time.
func choose(reqs []PendingRequest, opt ApproveOptions) int {
	found := -1
	for i, r := range reqs {
		switch {
		case opt.ID != "":
			if r.ID == opt.ID {
				found = i
			}
		case subtle.ConstantTimeCompare([]byte(proto.NormalizeCode(opt.Code)), []byte(r.Code)) == 1:
			found = i
		}
	}
	return found
}

// Deny refuses a pending request; the requesting device is told.
func (a *Agent) Deny(ctx context.Context, id string) error {
	s, err := a.open()
	if err != nil {
		return err
	}
	if err := a.sync(ctx, s); err != nil {
		return err
	}
	if err := s.requireAdmin(); err != nil {
		return err
	}
	infos, _, err := a.pending(ctx, s)
	if err != nil {
		return err
	}
	for _, ri := range infos {
		if ri.ID == id {
			req, _ := proto.ParseConnectRequest(ri.Request)
			return a.answer(ctx, s, id, req.ClientNonce, false)
		}
	}
	return fmt.Errorf("%w: no pending request with id %s", ErrNoMatch, id)
}

func (a *Agent) answer(ctx context.Context, s *session, id string, clientNonce []byte, approve bool) error {
	ans := proto.Answer{V: proto.Version, Account: s.st.Account, Request: id, ClientNonce: clientNonce,
		Approve: approve, Signer: s.keys.SignerID(), Time: a.now().UTC()}
	env, err := s.keys.Sign(proto.ContextAnswer, mustJSON(ans))
	if err != nil {
		return err
	}
	if _, err := s.mesh.Answer(ctx, s.st.Account, id, env); err != nil {
		return fmt.Errorf("answering request %s: %w", id, err)
	}
	return nil
}

// RemoveDevice revokes a device: it leaves the account log and every bundle
// is sealed again without it. Keys it already decrypted stay with it; rotate
// the mail keys (Enable with Rotate) to stop relying on them.
func (a *Agent) RemoveDevice(ctx context.Context, id string) (*DeviceInfo, error) {
	s, err := a.adminSession(ctx)
	if err != nil {
		return nil, err
	}
	d := s.st.Devices[id]
	if d == nil {
		return nil, fmt.Errorf("%w: no current device %s", ErrNoMatch, id)
	}
	if id == s.keys.ID() {
		return nil, fmt.Errorf("a device cannot remove itself; remove it from another admin device")
	}
	b := s.batch(a.now())
	if err := b.add(proto.KindDeviceRemove, func(e *proto.Entry) { e.DeviceRemove = &proto.DeviceRemove{Device: id} }); err != nil {
		return nil, err
	}
	if err := a.rewrapAll(ctx, s, b); err != nil {
		return nil, err
	}
	if err := a.commit(ctx, b); err != nil {
		return nil, fmt.Errorf("removing device %s: %w", id, err)
	}
	return &DeviceInfo{ID: id, Name: d.Profile.Name, Admin: d.Admin, Added: d.Added}, nil
}
