//go:build !windows

package agent

import (
	"github.com/endymail/endymail/clients/gnupg"
	"github.com/endymail/endymail/clients/thunderbird"
	"github.com/endymail/endymail/device"
)

// defaultClients are the configurators for the mail clients a device may
// have; each finds its own profiles or keyring on every call. The device
// home is where configurators that need one keep their undo records.
func defaultClients(*device.Home) []NamedClient {
	return []NamedClient{
		{Name: "thunderbird", Configurator: thunderbird.New(thunderbird.Options{})},
		{Name: "gnupg", Configurator: gnupg.New(gnupg.Options{})},
	}
}
