package winreg

import (
	"errors"
	"fmt"
	"strings"
)

// ErrChangedSince reports a value that someone else changed after the
// journal wrote it; [Restore] leaves such values alone.
var ErrChangedSince = errors.New("registry value changed since it was written")

// Change records one value a [Journal] wrote: what was there before (Old,
// nil when the value did not exist) and what the journal left (New, nil
// when it deleted the value). Changes are plain data so callers can persist
// them (JSON) and undo them later, in another process.
type Change struct {
	Path string `json:"path"`
	Name string `json:"name"`
	Old  *Value `json:"old,omitempty"`
	New  *Value `json:"new,omitempty"`
}

// Journal is a [Registry] that records, before its first write to each
// value, the value it replaces. It is not safe for concurrent use.
type Journal struct {
	reg     Registry
	changes []Change
	index   map[string]int // lower-case path\name -> changes index
}

var _ Registry = (*Journal)(nil)

// NewJournal returns a journal writing through to reg.
func NewJournal(reg Registry) *Journal {
	return &Journal{reg: reg, index: map[string]int{}}
}

// Get implements [Registry].
func (j *Journal) Get(path, name string) (Value, error) { return j.reg.Get(path, name) }

// SubKeys implements [Registry].
func (j *Journal) SubKeys(path string) ([]string, error) { return j.reg.SubKeys(path) }

// Set implements [Registry], recording the old value first.
func (j *Journal) Set(path, name string, v Value) error {
	i, err := j.record(path, name)
	if err != nil {
		return err
	}
	if err := j.reg.Set(path, name, v); err != nil {
		return err
	}
	nv := copyValue(v)
	j.changes[i].New = &nv
	return nil
}

// Delete implements [Registry], recording the old value first.
func (j *Journal) Delete(path, name string) error {
	i, err := j.record(path, name)
	if err != nil {
		return err
	}
	if err := j.reg.Delete(path, name); err != nil {
		return err
	}
	j.changes[i].New = nil
	return nil
}

// record makes sure the value's original state is journaled and returns the
// index of its Change.
func (j *Journal) record(path, name string) (int, error) {
	p, err := cleanPath(path)
	if err != nil {
		return 0, err
	}
	id := strings.ToLower(p + `\` + name)
	if i, ok := j.index[id]; ok {
		return i, nil
	}
	c := Change{Path: p, Name: name}
	old, err := j.reg.Get(p, name)
	switch {
	case err == nil:
		c.Old = &old
		c.New = &old
	case !errors.Is(err, ErrNotExist):
		return 0, fmt.Errorf("back up %s\\%s: %w", p, name, err)
	}
	j.changes = append(j.changes, c)
	j.index[id] = len(j.changes) - 1
	return len(j.changes) - 1, nil
}

// Changes returns the journaled changes, oldest first, dropping values the
// journal wrote back to what they were.
func (j *Journal) Changes() []Change {
	var out []Change
	for _, c := range j.changes {
		if !sameState(c.Old, c.New) {
			out = append(out, c)
		}
	}
	return out
}

// Restore undoes changes on reg, newest first: each value gets its Old state
// back. A value whose current state is no longer the New state the journal
// left is skipped and reported with [ErrChangedSince]; the others are still
// restored. Restoring twice is harmless.
func Restore(reg Registry, changes []Change) error {
	var errs []error
	for i := len(changes) - 1; i >= 0; i-- {
		c := changes[i]
		cur, err := reg.Get(c.Path, c.Name)
		var curp *Value
		switch {
		case err == nil:
			curp = &cur
		case !errors.Is(err, ErrNotExist):
			errs = append(errs, fmt.Errorf("restore %s\\%s: %w", c.Path, c.Name, err))
			continue
		}
		if sameState(curp, c.Old) {
			continue
		}
		if !sameState(curp, c.New) {
			errs = append(errs, fmt.Errorf("restore %s\\%s: %w", c.Path, c.Name, ErrChangedSince))
			continue
		}
		if c.Old == nil {
			err = reg.Delete(c.Path, c.Name)
		} else {
			err = reg.Set(c.Path, c.Name, *c.Old)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("restore %s\\%s: %w", c.Path, c.Name, err))
		}
	}
	return errors.Join(errs...)
}

func sameState(a, b *Value) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}
