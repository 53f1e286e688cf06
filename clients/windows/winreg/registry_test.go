package winreg

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// testRegistry is the behaviour every Registry implementation must share.
func testRegistry(t *testing.T, reg Registry) {
	t.Helper()
	const base = `Software\endymail-test\conformance`
	if _, err := reg.Get(base, "missing"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Get of missing value: got %v, want ErrNotExist", err)
	}
	values := map[string]Value{
		"s":   StringValue("C:\\Program Files\\x.exe --flag"),
		"e":   ExpandStringValue(`%LOCALAPPDATA%\Microsoft\Windows Live Mail`),
		"b":   BinaryValue([]byte{0, 1, 2, 0xff}),
		"d":   DWordValue(0xdeadbeef),
		"emp": BinaryValue(nil),
	}
	for name, v := range values {
		if err := reg.Set(base+`\Sub\Deeper`, name, v); err != nil {
			t.Fatalf("Set %s: %v", name, err)
		}
	}
	for name, want := range values {
		got, err := reg.Get(base+`\SUB\deeper`, name)
		if err != nil {
			t.Fatalf("Get %s: %v", name, err)
		}
		if !got.Equal(want) && !(len(got.Bin) == 0 && len(want.Bin) == 0 && got.Kind == want.Kind) {
			t.Errorf("Get %s: got %+v, want %+v", name, got, want)
		}
	}
	subs, err := reg.SubKeys(base)
	if err != nil || !reflect.DeepEqual(subs, []string{"Sub"}) {
		t.Errorf("SubKeys: got %v, %v, want [Sub]", subs, err)
	}
	if _, err := reg.SubKeys(base + `\nope`); !errors.Is(err, ErrNotExist) {
		t.Errorf("SubKeys of missing key: got %v, want ErrNotExist", err)
	}
	if err := reg.Delete(base+`\Sub\Deeper`, "S"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := reg.Get(base+`\Sub\Deeper`, "s"); !errors.Is(err, ErrNotExist) {
		t.Errorf("Get after Delete: got %v, want ErrNotExist", err)
	}
	if err := reg.Delete(base+`\Sub\Deeper`, "s"); err != nil {
		t.Errorf("second Delete: got %v, want nil", err)
	}
	if err := reg.Delete(base+`\Nowhere`, "s"); err != nil {
		t.Errorf("Delete in missing key: got %v, want nil", err)
	}
	if err := reg.Set(base, "bad", StringValue("a\x00b")); err == nil {
		t.Errorf("Set of string with NUL: got nil error")
	}
}

func TestMemory(t *testing.T) { testRegistry(t, NewMemory()) }

func TestJournalIsARegistry(t *testing.T) { testRegistry(t, NewJournal(NewMemory())) }

func TestJournalRestore(t *testing.T) {
	mem := NewMemory()
	const k = `Software\Test`
	mustSet(t, mem, k, "keep", StringValue("original"))
	mustSet(t, mem, k, "gone", DWordValue(7))

	j := NewJournal(mem)
	mustSet(t, j, k, "keep", StringValue("ours"))
	mustSet(t, j, k, "keep", StringValue("ours again"))
	mustSet(t, j, k, "new", BinaryValue([]byte{1}))
	if err := j.Delete(k, "gone"); err != nil {
		t.Fatal(err)
	}
	mustSet(t, j, k, "same", StringValue("x"))
	if err := j.Delete(k, "same"); err != nil {
		t.Fatal(err)
	}
	changes := j.Changes()
	if len(changes) != 3 {
		t.Fatalf("Changes: got %d, want 3 (%+v)", len(changes), changes)
	}
	// The changes survive a trip through JSON, as the agent persists them.
	b, err := json.Marshal(changes)
	if err != nil {
		t.Fatal(err)
	}
	var back []Change
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // restoring twice is harmless
		if err := Restore(mem, back); err != nil {
			t.Fatalf("Restore #%d: %v", i+1, err)
		}
		assertValue(t, mem, k, "keep", StringValue("original"))
		assertValue(t, mem, k, "gone", DWordValue(7))
		if _, err := mem.Get(k, "new"); !errors.Is(err, ErrNotExist) {
			t.Errorf("new value after Restore: got %v, want ErrNotExist", err)
		}
	}
}

func TestRestoreLeavesLaterChanges(t *testing.T) {
	mem := NewMemory()
	const k = `Software\Test`
	j := NewJournal(mem)
	mustSet(t, j, k, "a", StringValue("ours"))
	mustSet(t, j, k, "b", StringValue("ours"))
	mustSet(t, mem, k, "a", StringValue("the user's"))
	err := Restore(mem, j.Changes())
	if !errors.Is(err, ErrChangedSince) {
		t.Fatalf("Restore: got %v, want ErrChangedSince", err)
	}
	assertValue(t, mem, k, "a", StringValue("the user's"))
	if _, err := mem.Get(k, "b"); !errors.Is(err, ErrNotExist) {
		t.Errorf("b after Restore: got %v, want ErrNotExist", err)
	}
}

func mustSet(t *testing.T, reg Registry, path, name string, v Value) {
	t.Helper()
	if err := reg.Set(path, name, v); err != nil {
		t.Fatalf("Set %s\\%s: %v", path, name, err)
	}
}

func assertValue(t *testing.T, reg Registry, path, name string, want Value) {
	t.Helper()
	got, err := reg.Get(path, name)
	if err != nil {
		t.Fatalf("Get %s\\%s: %v", path, name, err)
	}
	if !got.Equal(want) {
		t.Errorf("%s\\%s: got %+v, want %+v", path, name, got, want)
	}
}
