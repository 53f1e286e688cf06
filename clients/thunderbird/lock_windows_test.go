package thunderbird

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/windows"
)

// TestParentLock holds parent.lock the way Thunderbird does on Windows
// (toolkit/profile/nsProfileLock.cpp: CreateFileW with no sharing and
// FILE_FLAG_DELETE_ON_CLOSE) and checks profileLocked sees it. Share modes
// apply per handle, so one process can play both sides. Run under Wine:
// GOOS=windows go test -c, then wine64 thunderbird.test.exe -test.run ParentLock.
func TestParentLock(t *testing.T) {
	dir := t.TempDir()
	if locked, _, err := profileLocked(dir); err != nil || locked {
		t.Fatalf("no parent.lock: got locked=%v, %v; want unlocked", locked, err)
	}
	name, _ := windows.UTF16PtrFromString(filepath.Join(dir, "parent.lock"))
	h, err := windows.CreateFile(name, windows.GENERIC_READ, 0, nil, windows.OPEN_ALWAYS,
		windows.FILE_ATTRIBUTE_NORMAL|windows.FILE_FLAG_DELETE_ON_CLOSE, 0)
	if err != nil {
		t.Fatal(err)
	}
	if locked, why, err := profileLocked(dir); err != nil || !locked {
		t.Errorf("parent.lock held: got locked=%v (%s), %v; want locked", locked, why, err)
	}
	windows.CloseHandle(h)
	if locked, _, err := profileLocked(dir); err != nil || locked {
		t.Errorf("after release: got locked=%v, %v; want unlocked", locked, err)
	}
	// A parent.lock left behind without a holder does not count.
	os.WriteFile(filepath.Join(dir, "parent.lock"), nil, 0o644)
	if locked, _, err := profileLocked(dir); err != nil || locked {
		t.Errorf("stale parent.lock: got locked=%v, %v; want unlocked", locked, err)
	}
}
