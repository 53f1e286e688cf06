package winreg

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Memory is an in-memory [Registry] for tests. Like the real registry it
// compares key and value names case-insensitively and keeps the case they
// were created with. The zero value is not usable; call [NewMemory].
type Memory struct {
	mu   sync.Mutex
	keys map[string]*memKey // by lower-case clean path
}

type memKey struct {
	path   string
	values map[string]memValue // by lower-case name
}

type memValue struct {
	name string
	v    Value
}

var _ Registry = (*Memory)(nil)

// NewMemory returns an empty in-memory registry.
func NewMemory() *Memory { return &Memory{keys: map[string]*memKey{}} }

// Get implements [Registry].
func (m *Memory) Get(path, name string) (Value, error) {
	p, err := cleanPath(path)
	if err != nil {
		return Value{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := m.keys[strings.ToLower(p)]
	if k == nil {
		return Value{}, fmt.Errorf("key %s: %w", p, ErrNotExist)
	}
	mv, ok := k.values[strings.ToLower(name)]
	if !ok {
		return Value{}, fmt.Errorf("value %s\\%s: %w", p, name, ErrNotExist)
	}
	return copyValue(mv.v), nil
}

// Set implements [Registry].
func (m *Memory) Set(path, name string, v Value) error {
	p, err := cleanPath(path)
	if err != nil {
		return err
	}
	if err := v.validate(); err != nil {
		return fmt.Errorf("value %s\\%s: %w", p, name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := m.createLocked(p)
	k.values[strings.ToLower(name)] = memValue{name: name, v: copyValue(v)}
	return nil
}

// Delete implements [Registry].
func (m *Memory) Delete(path, name string) error {
	p, err := cleanPath(path)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if k := m.keys[strings.ToLower(p)]; k != nil {
		delete(k.values, strings.ToLower(name))
	}
	return nil
}

// SubKeys implements [Registry].
func (m *Memory) SubKeys(path string) ([]string, error) {
	p, err := cleanPath(path)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	lp := strings.ToLower(p)
	if m.keys[lp] == nil {
		return nil, fmt.Errorf("key %s: %w", p, ErrNotExist)
	}
	var names []string
	for lk, k := range m.keys {
		rest, ok := strings.CutPrefix(lk, lp+`\`)
		if ok && !strings.Contains(rest, `\`) {
			names = append(names, k.path[len(k.path)-len(rest):])
		}
	}
	sort.Strings(names)
	return names, nil
}

// createLocked creates the key at clean path p and its ancestors.
func (m *Memory) createLocked(p string) *memKey {
	parts := strings.Split(p, `\`)
	var k *memKey
	for i := range parts {
		sub := strings.Join(parts[:i+1], `\`)
		lk := strings.ToLower(sub)
		if k = m.keys[lk]; k == nil {
			k = &memKey{path: sub, values: map[string]memValue{}}
			m.keys[lk] = k
		}
	}
	return k
}

func copyValue(v Value) Value {
	if v.Bin != nil {
		v.Bin = append([]byte(nil), v.Bin...)
	}
	return v
}
