package proto

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// testAccount builds a small valid log: genesis, an admin device, a member
// device, a bundle.
type testAccount struct {
	t      *testing.T
	root   *SigningKey
	admin  *SigningKey
	member *SigningKey
	log    []Envelope
	st     *State
}

func newTestAccount(t *testing.T) *testAccount {
	t.Helper()
	ta := &testAccount{t: t, root: mustKey(t), admin: mustKey(t), member: mustKey(t)}
	acct := AccountID(ta.root.Public())
	g := &Entry{V: Version, Account: acct, Time: testTime, Signer: ta.root.ID(), Kind: KindGenesis,
		Genesis: &Genesis{Handle: "alice@example.com", RootKey: ta.root.Public(), Recovery: RecoveryPolicy{2, 3}}}
	env, err := Sign(ContextEntry, g.Marshal(), ta.root)
	if err != nil {
		t.Fatal(err)
	}
	ta.log = []Envelope{env}
	if ta.st, err = NewState(env); err != nil {
		t.Fatal(err)
	}
	ta.add(ta.root, KindDeviceAdd, func(e *Entry) { e.DeviceAdd = &DeviceAdd{Device: profile(t, "laptop", ta.admin), Admin: true} })
	ta.add(ta.admin, KindDeviceAdd, func(e *Entry) { e.DeviceAdd = &DeviceAdd{Device: profile(t, "phone", ta.member)} })
	return ta
}

var testTime = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func mustKey(t *testing.T) *SigningKey {
	k, err := GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func profile(t *testing.T, name string, k *SigningKey) DeviceProfile {
	kem, err := KEM().GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return DeviceProfile{Name: name, SignKey: k.Public(), HPKEKey: kem.PublicKey().Bytes()}
}

// next builds the next entry on the current state without applying it.
func (ta *testAccount) next(signer *SigningKey, kind string, body func(*Entry)) Envelope {
	e := &Entry{V: Version, Account: ta.st.Account, Seq: ta.st.Seq + 1, Prev: ta.st.Head, Time: testTime, Signer: signer.ID(), Kind: kind}
	body(e)
	env, err := Sign(ContextEntry, e.Marshal(), signer)
	if err != nil {
		ta.t.Fatal(err)
	}
	return env
}

func (ta *testAccount) add(signer *SigningKey, kind string, body func(*Entry)) {
	ta.t.Helper()
	env := ta.next(signer, kind, body)
	if err := ta.st.Apply(env); err != nil {
		ta.t.Fatalf("applying valid %s: %v", kind, err)
	}
	ta.log = append(ta.log, env)
}

func TestReplayValidLog(t *testing.T) {
	ta := newTestAccount(t)
	st, err := Replay(ta.log)
	if err != nil {
		t.Fatal(err)
	}
	if st.Seq != 2 || len(st.Devices) != 2 || len(st.Admins()) != 1 {
		t.Errorf("got seq %d, %d devices, %d admins; want 2, 2, 1", st.Seq, len(st.Devices), len(st.Admins()))
	}
	if st.Head != ta.st.Head {
		t.Errorf("replayed head %s, want %s", st.Head, ta.st.Head)
	}
}

func TestReplayRejects(t *testing.T) {
	ta := newTestAccount(t)
	other := newTestAccount(t)
	publish := func(e *Entry) {
		e.Publish = &Publish{Address: "alice@example.com", OpenPGP: []byte{1}}
	}
	tamper := func(env Envelope) Envelope {
		p := bytes.Replace(env.Payload, []byte("laptop"), []byte("laptoq"), 1)
		return Envelope{Payload: p, Signatures: env.Signatures}
	}
	cases := []struct {
		name string
		log  []Envelope
		want error
	}{
		{"empty", nil, ErrNotGenesis},
		{"no genesis", ta.log[1:], ErrNotGenesis},
		{"dropped entry", []Envelope{ta.log[0], ta.log[2]}, ErrSequence},
		{"reordered", []Envelope{ta.log[0], ta.log[2], ta.log[1]}, ErrSequence},
		{"other account's entry", []Envelope{ta.log[0], other.log[1]}, ErrWrongAccount},
		{"fork: other prev", []Envelope{ta.log[0], ta.log[1], forkOf(t, ta)}, ErrFork},
		{"member signs publish", append(clone(ta.log), ta.next(ta.member, KindPublish, publish)), ErrUnauthorized},
		{"stranger signs", append(clone(ta.log), ta.next(mustKey(t), KindPublish, publish)), ErrUnauthorized},
		{"tampered payload", []Envelope{ta.log[0], tamper(ta.log[1])}, ErrBadSignature},
		{"second genesis", append(clone(ta.log), ta.next(ta.root, KindGenesis, func(e *Entry) {
			e.Genesis = &Genesis{Handle: "alice@example.com", RootKey: ta.root.Public(), Recovery: RecoveryPolicy{2, 3}}
		})), ErrInvalidChange},
		{"wrong context", append(clone(ta.log), wrongContext(t, ta)), ErrBadSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Replay(c.log)
			if !errors.Is(err, c.want) {
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
}

func clone(l []Envelope) []Envelope { return append([]Envelope(nil), l...) }

// forkOf is an entry 2 that names a different previous entry.
func forkOf(t *testing.T, ta *testAccount) Envelope {
	e, err := ParseEntry(ta.log[2].Payload)
	if err != nil {
		t.Fatal(err)
	}
	e.Prev = EntryID(ta.log[0].Payload)
	env, _ := Sign(ContextEntry, e.Marshal(), ta.admin)
	return env
}

func wrongContext(t *testing.T, ta *testAccount) Envelope {
	env := ta.next(ta.admin, KindUnpublish, func(e *Entry) { e.Unpublish = &Unpublish{Address: "x@example.com"} })
	e, _ := ParseEntry(env.Payload)
	e.Kind, e.Unpublish = KindPublish, nil
	e.Publish = &Publish{Address: "alice@example.com", OpenPGP: []byte{1}}
	out, _ := Sign(ContextAnswer, e.Marshal(), ta.admin)
	return out
}

func TestRemovedDeviceLosesRights(t *testing.T) {
	ta := newTestAccount(t)
	second := mustKey(t)
	desk := profile(t, "desk", second)
	ta.add(ta.admin, KindDeviceAdd, func(e *Entry) { e.DeviceAdd = &DeviceAdd{Device: desk, Admin: true} })
	ta.add(ta.admin, KindDeviceRemove, func(e *Entry) { e.DeviceRemove = &DeviceRemove{Device: desk.ID()} })
	env := ta.next(second, KindPublish, func(e *Entry) { e.Publish = &Publish{Address: "alice@example.com", OpenPGP: []byte{1}} })
	if err := ta.st.Clone().Apply(env); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("removed admin's entry: got %v, want ErrUnauthorized", err)
	}
	readd := ta.next(ta.admin, KindDeviceAdd, func(e *Entry) { e.DeviceAdd = &DeviceAdd{Device: desk} })
	if err := ta.st.Clone().Apply(readd); !errors.Is(err, ErrInvalidChange) {
		t.Errorf("re-adding a removed device: got %v, want ErrInvalidChange", err)
	}
}

func TestLastAdminCannotBeRemoved(t *testing.T) {
	ta := newTestAccount(t)
	id := ta.st.Admins()[0]
	env := ta.next(ta.admin, KindDeviceRemove, func(e *Entry) { e.DeviceRemove = &DeviceRemove{Device: id} })
	if err := ta.st.Clone().Apply(env); !errors.Is(err, ErrInvalidChange) {
		t.Errorf("removing the last admin: got %v, want ErrInvalidChange", err)
	}
}

func TestApplyFailureLeavesStateUnchanged(t *testing.T) {
	ta := newTestAccount(t)
	before := *ta.st
	bad := ta.next(ta.member, KindPublish, func(e *Entry) { e.Publish = &Publish{Address: "alice@example.com", OpenPGP: []byte{1}} })
	if err := ta.st.Apply(bad); err == nil {
		t.Fatal("member's publish accepted")
	}
	if ta.st.Seq != before.Seq || ta.st.Head != before.Head || len(ta.st.Published) != 0 {
		t.Errorf("state changed by a refused entry")
	}
}
