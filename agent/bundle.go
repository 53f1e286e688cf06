package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/endymail/endymail/mesh/proto"
)

// PutBundle stores content as the next version of the named bundle, sealed
// to every current device of the account.
func (a *Agent) PutBundle(ctx context.Context, name string, content []byte) (*proto.BundleRef, error) {
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
	b := s.batch(a.now())
	if err := a.sealInto(ctx, s, b, name, content); err != nil {
		return nil, err
	}
	if err := a.commit(ctx, b); err != nil {
		return nil, fmt.Errorf("recording bundle %s in the account log: %w", name, err)
	}
	return s.st.Bundles[name], nil
}

// GetBundle returns the content of the latest version of the named bundle,
// verified against the log and decrypted with this device's key.
func (a *Agent) GetBundle(ctx context.Context, name string) ([]byte, error) {
	s, err := a.open()
	if err != nil {
		return nil, err
	}
	if err := a.sync(ctx, s); err != nil {
		return nil, err
	}
	return a.openBundle(ctx, s, name)
}

// sealInto seals content as the next version of name to every device of the
// batch's state, uploads it and adds the bundle entry to the batch.
func (a *Agent) sealInto(ctx context.Context, s *session, b *batch, name string, content []byte) error {
	var devices []proto.DeviceProfile
	for _, id := range sortedKeys(b.st.Devices) {
		devices = append(devices, b.st.Devices[id].Profile)
	}
	version := uint64(1)
	if old := b.st.Bundles[name]; old != nil {
		version = old.Version + 1
	}
	blob, ref, err := proto.SealBundle(b.st.Account, name, version, content, devices, b.st.RecoveryKey)
	if err != nil {
		return err
	}
	env, err := s.keys.Sign(proto.ContextBlob, blob)
	if err != nil {
		return err
	}
	if err := s.mesh.PutBlob(ctx, b.st.Account, env); err != nil {
		return fmt.Errorf("uploading bundle %s: %w", name, err)
	}
	return b.add(proto.KindBundle, func(e *proto.Entry) { e.Bundle = ref })
}

// rewrapAll seals every bundle again so that the batch's devices (after a
// device was added or removed) are exactly the ones that can open it.
func (a *Agent) rewrapAll(ctx context.Context, s *session, b *batch) error {
	for _, name := range sortedKeys(s.st.Bundles) {
		content, err := a.openBundle(ctx, s, name)
		if err != nil {
			return fmt.Errorf("re-wrapping bundle %s: %w", name, err)
		}
		err = a.sealInto(ctx, s, b, name, content)
		clear(content)
		if err != nil {
			return err
		}
	}
	return nil
}

// openBundle fetches, checks and decrypts the latest version of a bundle.
func (a *Agent) openBundle(ctx context.Context, s *session, name string) ([]byte, error) {
	ref := s.st.Bundles[name]
	if ref == nil {
		return nil, fmt.Errorf("no bundle named %q in the account", name)
	}
	env, err := s.mesh.Blob(ctx, s.st.Account, ref.Digest)
	if err != nil {
		return nil, fmt.Errorf("fetching bundle %s: %w", name, err)
	}
	content, err := proto.OpenBundle(env.Payload, s.st.Account, ref, s.keys.ID(), s.keys.HPKE())
	if err != nil {
		return nil, err
	}
	return content, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func removeFile(p string) error {
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
