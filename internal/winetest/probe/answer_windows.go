//go:build windows

package main

import (
	"errors"
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	user32           = windows.NewLazySystemDLL("user32.dll")
	procFindWindowW  = user32.NewProc("FindWindowW")
	procPostMessageW = user32.NewProc("PostMessageW")
)

const (
	wmCommand = 0x0111
	idYes     = 6
	idNo      = 7
)

// answer waits for the message box titled title and presses Yes or No in
// it, as a user would.
func answer(title string, yes bool) error {
	t, err := windows.UTF16PtrFromString(title)
	if err != nil {
		return err
	}
	class, _ := windows.UTF16PtrFromString("#32770") // the dialog class of MessageBox
	button := uintptr(idNo)
	if yes {
		button = idYes
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		hwnd, _, _ := procFindWindowW.Call(uintptr(unsafe.Pointer(class)), uintptr(unsafe.Pointer(t)))
		if hwnd == 0 {
			continue
		}
		if r, _, err := procPostMessageW.Call(hwnd, wmCommand, button, 0); r == 0 {
			return fmt.Errorf("PostMessage: %w", err)
		}
		return nil
	}
	return errors.New("no message box appeared")
}
