//go:build windows

package agent

import (
	"github.com/endymail/endymail/clients/thunderbird"
	"github.com/endymail/endymail/clients/windows/wincfg"
	"github.com/endymail/endymail/device"
)

// defaultClients are the configurators for the mail clients a Windows device
// may have: Thunderbird (the same configurator as on Linux, profiles under
// %APPDATA%) and the Windows clients (certificate store, Outlook classic,
// Windows Live Mail), whose undo records live in the device home. Each finds
// its own profiles or stores on every call.
func defaultClients(h *device.Home) []NamedClient {
	return []NamedClient{
		{Name: "thunderbird", Configurator: thunderbird.New(thunderbird.Options{})},
		{Name: wincfg.Client, Configurator: wincfg.New(wincfg.Options{StateDir: h.Path("clients", "windows")})},
	}
}
