//go:build windows

package winui

import (
	"fmt"

	"golang.org/x/sys/windows"
)

const (
	idYes         = 6
	idNo          = 7
	mbDefButton2  = 0x00000100
	mbSetForegrnd = 0x00010000
	mbTopmost     = 0x00040000
)

func ask(title, text string) (Answer, error) {
	t, err := windows.UTF16PtrFromString(title)
	if err != nil {
		return No, fmt.Errorf("message box title: %w", err)
	}
	m, err := windows.UTF16PtrFromString(text)
	if err != nil {
		return No, fmt.Errorf("message box text: %w", err)
	}
	style := uint32(windows.MB_YESNO | windows.MB_ICONQUESTION | mbDefButton2 | mbSetForegrnd | mbTopmost)
	r, err := windows.MessageBox(0, m, t, style)
	switch r {
	case idYes:
		return Yes, nil
	case idNo:
		return No, nil
	}
	return No, fmt.Errorf("message box: %w", err)
}
