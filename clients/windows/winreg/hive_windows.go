//go:build windows

package winreg

import (
	"errors"
	"fmt"
	"sort"

	"golang.org/x/sys/windows/registry"
)

// hive is a [Registry] on a real root key.
type hive struct {
	root registry.Key
	name string
}

var _ Registry = hive{}

func currentUser() (Registry, error) { return hive{registry.CURRENT_USER, "HKCU"}, nil }

func localMachine() (Registry, error) { return hive{registry.LOCAL_MACHINE, "HKLM"}, nil }

func (h hive) wrap(op, path, name string, err error) error {
	if errors.Is(err, registry.ErrNotExist) {
		err = ErrNotExist
	}
	if name == "" {
		return fmt.Errorf("%s %s\\%s: %w", op, h.name, path, err)
	}
	return fmt.Errorf("%s %s\\%s\\%s: %w", op, h.name, path, name, err)
}

func (h hive) Get(path, name string) (Value, error) {
	p, err := cleanPath(path)
	if err != nil {
		return Value{}, err
	}
	k, err := registry.OpenKey(h.root, p, registry.QUERY_VALUE)
	if err != nil {
		return Value{}, h.wrap("open", p, "", err)
	}
	defer k.Close()
	_, typ, err := k.GetValue(name, nil)
	if err != nil {
		return Value{}, h.wrap("read", p, name, err)
	}
	var v Value
	switch typ {
	case registry.SZ, registry.EXPAND_SZ:
		v.Kind = Kind(typ)
		v.Str, _, err = k.GetStringValue(name)
	case registry.BINARY:
		v.Kind = Binary
		v.Bin, _, err = k.GetBinaryValue(name)
	case registry.DWORD:
		var n uint64
		n, _, err = k.GetIntegerValue(name)
		v.Kind, v.Num = DWord, uint32(n)
	default:
		err = fmt.Errorf("unsupported registry value type %d", typ)
	}
	if err != nil {
		return Value{}, h.wrap("read", p, name, err)
	}
	return v, nil
}

func (h hive) Set(path, name string, v Value) error {
	p, err := cleanPath(path)
	if err != nil {
		return err
	}
	if err := v.validate(); err != nil {
		return h.wrap("write", p, name, err)
	}
	k, _, err := registry.CreateKey(h.root, p, registry.SET_VALUE)
	if err != nil {
		return h.wrap("create", p, "", err)
	}
	defer k.Close()
	switch v.Kind {
	case String:
		err = k.SetStringValue(name, v.Str)
	case ExpandString:
		err = k.SetExpandStringValue(name, v.Str)
	case Binary:
		err = k.SetBinaryValue(name, v.Bin)
	case DWord:
		err = k.SetDWordValue(name, v.Num)
	}
	if err != nil {
		return h.wrap("write", p, name, err)
	}
	return nil
}

func (h hive) Delete(path, name string) error {
	p, err := cleanPath(path)
	if err != nil {
		return err
	}
	k, err := registry.OpenKey(h.root, p, registry.SET_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	if err != nil {
		return h.wrap("open", p, "", err)
	}
	defer k.Close()
	if err := k.DeleteValue(name); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return h.wrap("delete", p, name, err)
	}
	return nil
}

func (h hive) SubKeys(path string) ([]string, error) {
	p, err := cleanPath(path)
	if err != nil {
		return nil, err
	}
	k, err := registry.OpenKey(h.root, p, registry.ENUMERATE_SUB_KEYS)
	if err != nil {
		return nil, h.wrap("open", p, "", err)
	}
	defer k.Close()
	names, err := k.ReadSubKeyNames(-1)
	if err != nil {
		return nil, h.wrap("list", p, "", err)
	}
	sort.Strings(names)
	return names, nil
}
