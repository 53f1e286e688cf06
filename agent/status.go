package agent

import (
	"context"
	"errors"

	"github.com/endymail/endymail/device"
)

// DeviceInfo describes a device of the account.
type DeviceInfo struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Admin bool   `json:"admin"`
	This  bool   `json:"this"`
	Added uint64 `json:"added"`
}

// Devices lists the account's current devices from the verified log.
func (a *Agent) Devices(ctx context.Context) ([]DeviceInfo, error) {
	s, err := a.open()
	if err != nil {
		return nil, err
	}
	if err := a.sync(ctx, s); err != nil {
		return nil, err
	}
	var out []DeviceInfo
	for _, id := range sortedKeys(s.st.Devices) {
		d := s.st.Devices[id]
		out = append(out, DeviceInfo{ID: id, Name: d.Profile.Name, Admin: d.Admin, This: id == s.keys.ID(), Added: d.Added})
	}
	return out, nil
}

// Status is what the device knows of itself and its account.
type Status struct {
	Home      string   `json:"home"`
	Device    string   `json:"device,omitempty"`
	Name      string   `json:"name,omitempty"`
	Account   string   `json:"account,omitempty"`
	Handle    string   `json:"handle,omitempty"`
	Mesh      string   `json:"mesh,omitempty"`
	Admin     bool     `json:"admin"`
	Head      uint64   `json:"head"`
	Devices   int      `json:"devices"`
	Bundles   []string `json:"bundles"`
	Published []string `json:"published"`
	Pending   int      `json:"pending_requests"`
	Waiting   string   `json:"waiting_for_approval,omitempty"` // code of this device's own request
	SyncError string   `json:"sync_error,omitempty"`
}

// Status reports the device's state; it works offline, saying why the sync
// failed.
func (a *Agent) Status(ctx context.Context) (*Status, error) {
	st := &Status{Home: a.home.Dir(), Bundles: []string{}, Published: []string{}}
	keys, err := a.home.Keys()
	if errors.Is(err, device.ErrNoDevice) {
		return st, nil
	} else if err != nil {
		return nil, err
	}
	st.Device, st.Name = keys.ID(), keys.Name()
	acct, err := a.home.Account()
	if errors.Is(err, device.ErrNoAccount) {
		return st, nil
	} else if err != nil {
		return nil, err
	}
	st.Account, st.Handle, st.Mesh = acct.Account, acct.Handle, acct.Mesh
	if acct.Pending != nil {
		st.Waiting = acct.Pending.Code
		return st, nil
	}
	s, err := a.open()
	if err != nil {
		return nil, err
	}
	if err := a.sync(ctx, s); err != nil {
		st.SyncError = err.Error()
	} else if s.requireAdmin() == nil {
		if _, p, err := a.pending(ctx, s); err == nil {
			st.Pending = len(p)
		}
	}
	st.Head, st.Devices = s.st.Seq, len(s.st.Devices)
	st.Admin = s.requireAdmin() == nil
	st.Bundles = sortedKeys(s.st.Bundles)
	st.Published = sortedKeys(s.st.Published)
	return st, nil
}
