//go:build unix && !darwin

package prompt

import (
	"errors"
	"fmt"
	"os"

	"github.com/godbus/dbus/v5"
)

// Default returns the notification prompter on the user's session bus; an
// error when there is no session bus (a server, an SSH login).
func Default() (Prompter, error) {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return nil, errors.New("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
	}
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return nil, fmt.Errorf("D-Bus session bus: %w", err)
	}
	return NewDBus(conn), nil
}
