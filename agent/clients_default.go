//go:build !windows

package agent

import "github.com/endymail/endymail/clients/thunderbird"

// defaultClients are the configurators for the mail clients a device may
// have; each finds its own profiles or stores on every call.
func defaultClients() []NamedClient {
	return []NamedClient{{Name: "thunderbird", Configurator: thunderbird.New(thunderbird.Options{})}}
}
