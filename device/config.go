package device

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/endymail/endymail/internal/atomicfile"
)

const configFile = "config.json"

// Config is this device's settings. It is changed only through
// [Home.UpdateConfig], which validates it.
type Config struct {
	// Prefer is the technology the mail clients prefer: "openpgp" (the
	// default when empty) or "smime".
	Prefer string `json:"prefer,omitempty"`
}

// Validate checks every field.
func (c Config) Validate() error {
	switch c.Prefer {
	case "", "openpgp", "smime":
		return nil
	}
	return fmt.Errorf("prefer %q: want openpgp or smime", c.Prefer)
}

// Config reads the device's settings; the zero Config if there are none.
func (h *Home) Config() (Config, error) {
	var c Config
	data, err := os.ReadFile(h.Path(configFile))
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return Config{}, fmt.Errorf("settings %s: corrupt: %w", h.Path(configFile), err)
	}
	return c, c.Validate()
}

// UpdateConfig applies change to the settings, validates the result and
// writes it atomically. On error nothing is written.
func (h *Home) UpdateConfig(change func(*Config)) (Config, error) {
	c, err := h.Config()
	if err != nil {
		return Config{}, err
	}
	change(&c)
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	data, _ := json.Marshal(c)
	return c, atomicfile.WriteFile(h.Path(configFile), data, 0o600)
}
