package proto

import (
	"crypto/ed25519"
	"crypto/subtle"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/endymail/endymail/udf"
)

// Log verification errors. Each names what a hostile or broken service did.
var (
	ErrNotGenesis    = errors.New("log does not start with a valid genesis entry")
	ErrWrongAccount  = errors.New("entry belongs to another account")
	ErrSequence      = errors.New("entry out of sequence (dropped or reordered)")
	ErrFork          = errors.New("entry does not extend the verified head (fork)")
	ErrRollback      = errors.New("service shows an older log head than already verified (rollback)")
	ErrUnauthorized  = errors.New("entry signed by a key not authorised for it")
	ErrInvalidChange = errors.New("entry makes an invalid change")
)

// Device is a device as the log knows it.
type Device struct {
	Profile DeviceProfile
	Admin   bool
	Added   uint64 // seq of its device-add entry
	Request *RequestRef
}

// State is an account as established by verifying its log. It only ever
// changes through [State.Apply].
type State struct {
	Account  string
	Handle   string
	RootKey  ed25519.PublicKey
	Recovery RecoveryPolicy
	// RecoveryKey is the HPKE public key every bundle is also sealed to;
	// its private half is derived from the root seed (RecoveryKEM).
	RecoveryKey []byte
	Seq         uint64 // sequence number of the head entry
	Head        string // EntryID of the head entry

	Devices   map[string]*Device    // by DeviceID, current devices only
	Removed   map[string]bool       // DeviceIDs ever removed: never re-added
	Bundles   map[string]*BundleRef // latest version by bundle name
	Published map[string]*Publish   // by address
}

// AccountID names an account by its root public key.
func AccountID(root ed25519.PublicKey) string { return udf.SHA512(TypeRootKey, root).String() }

// Replay verifies a whole log from genesis and returns the resulting state.
func Replay(log []Envelope) (*State, error) {
	if len(log) == 0 {
		return nil, ErrNotGenesis
	}
	s, err := NewState(log[0])
	if err != nil {
		return nil, err
	}
	for _, env := range log[1:] {
		if err := s.Apply(env); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// NewState verifies a genesis entry and starts an account's state from it.
func NewState(env Envelope) (*State, error) {
	e, err := ParseEntry(env.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotGenesis, err)
	}
	if e.Kind != KindGenesis || e.Seq != 0 || e.Prev != "" {
		return nil, fmt.Errorf("%w: first entry is %s #%d", ErrNotGenesis, e.Kind, e.Seq)
	}
	root := ed25519.PublicKey(e.Genesis.RootKey)
	if e.Account != AccountID(root) || e.Signer != KeyID(root) {
		return nil, fmt.Errorf("%w: account or signer does not match the root key", ErrNotGenesis)
	}
	if err := env.Verify(ContextEntry, root); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotGenesis, err)
	}
	return &State{
		Account: e.Account, Handle: e.Genesis.Handle, RootKey: root,
		Recovery: e.Genesis.Recovery, RecoveryKey: e.Genesis.RecoveryKey, Seq: 0, Head: EntryID(env.Payload),
		Devices: map[string]*Device{}, Removed: map[string]bool{},
		Bundles: map[string]*BundleRef{}, Published: map[string]*Publish{},
	}, nil
}

// Apply verifies env as the next entry and applies it. On error the state is
// unchanged.
func (s *State) Apply(env Envelope) error {
	e, err := ParseEntry(env.Payload)
	if err != nil {
		return err
	}
	if e.Account != s.Account {
		return fmt.Errorf("%w: entry %d names %s", ErrWrongAccount, e.Seq, e.Account)
	}
	if e.Seq != s.Seq+1 {
		return fmt.Errorf("%w: got entry %d after %d", ErrSequence, e.Seq, s.Seq)
	}
	if subtle.ConstantTimeCompare([]byte(e.Prev), []byte(s.Head)) != 1 {
		return fmt.Errorf("%w: entry %d names previous %s, verified head is %s", ErrFork, e.Seq, e.Prev, s.Head)
	}
	key, err := s.authorise(e)
	if err != nil {
		return err
	}
	if err := env.Verify(ContextEntry, key); err != nil {
		return fmt.Errorf("entry %d: %w", e.Seq, err)
	}
	if err := s.change(e); err != nil {
		return fmt.Errorf("%w: entry %d: %v", ErrInvalidChange, e.Seq, err)
	}
	s.Seq, s.Head = e.Seq, EntryID(env.Payload)
	return nil
}

// authorise returns the public key that must have signed e: the root key or
// a current admin device, for every kind after genesis.
func (s *State) authorise(e *Entry) (ed25519.PublicKey, error) {
	if e.Kind == KindGenesis {
		return nil, fmt.Errorf("%w: second genesis at %d", ErrInvalidChange, e.Seq)
	}
	if e.Signer == KeyID(s.RootKey) {
		return s.RootKey, nil
	}
	for _, d := range s.Devices {
		if d.Admin && KeyID(d.Profile.SignKey) == e.Signer {
			return d.Profile.SignKey, nil
		}
	}
	return nil, fmt.Errorf("%w: entry %d (%s) signed by %s, not the root or a current admin device", ErrUnauthorized, e.Seq, e.Kind, e.Signer)
}

// change applies a verified, authorised entry's effect, refusing
// contradictions.
func (s *State) change(e *Entry) error {
	switch e.Kind {
	case KindDeviceAdd:
		id := e.DeviceAdd.Device.ID()
		if s.Devices[id] != nil || s.Removed[id] {
			return fmt.Errorf("device %s already added or removed", id)
		}
		s.Devices[id] = &Device{Profile: e.DeviceAdd.Device, Admin: e.DeviceAdd.Admin, Added: e.Seq, Request: e.DeviceAdd.Request}
	case KindDeviceRemove:
		id := e.DeviceRemove.Device
		d := s.Devices[id]
		if d == nil {
			return fmt.Errorf("device %s is not a current device", id)
		}
		if d.Admin && len(s.Admins()) == 1 {
			return fmt.Errorf("device %s is the last admin device", id)
		}
		delete(s.Devices, id)
		s.Removed[id] = true
	case KindPublish:
		p := *e.Publish
		s.Published[p.Address] = &p
	case KindUnpublish:
		if s.Published[e.Unpublish.Address] == nil {
			return fmt.Errorf("address %s is not published", e.Unpublish.Address)
		}
		delete(s.Published, e.Unpublish.Address)
	case KindBundle:
		return s.changeBundle(e.Bundle)
	}
	return nil
}

func (s *State) changeBundle(b *BundleRef) error {
	if old := s.Bundles[b.Name]; old != nil && b.Version <= old.Version {
		return fmt.Errorf("bundle %s version %d does not follow %d", b.Name, b.Version, old.Version)
	}
	for _, d := range b.Devices {
		if s.Devices[d] == nil {
			return fmt.Errorf("bundle %s wrapped to %s, not a current device", b.Name, d)
		}
	}
	c := *b
	c.Devices = slices.Clone(b.Devices)
	s.Bundles[b.Name] = &c
	return nil
}

// Clone returns an independent copy, for trying entries without committing.
func (s *State) Clone() *State {
	c := *s
	c.Devices = maps.Clone(s.Devices)
	c.Removed = maps.Clone(s.Removed)
	c.Bundles = maps.Clone(s.Bundles)
	c.Published = maps.Clone(s.Published)
	return &c
}

// Admins returns the current admin devices' IDs, sorted.
func (s *State) Admins() []string {
	var ids []string
	for id, d := range s.Devices {
		if d.Admin {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// SignerKey returns the public key of a root or current admin KeyID, for
// checking answers and blob uploads.
func (s *State) SignerKey(keyID string) (ed25519.PublicKey, bool) {
	k, err := s.authorise(&Entry{Kind: KindBundle, Signer: keyID})
	return k, err == nil
}
