package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/endymail/endymail/internal/atomicfile"
)

// StateFile is the name of the agent's state file in the device home.
const StateFile = "agent-state.json"

// Client outcomes recorded in [ClientState.Status].
const (
	StatusConfigured = "configured"         // Apply changed something
	StatusUnchanged  = "already configured" // Apply found nothing to do
	StatusRunning    = "waiting for the client to close"
	StatusNoIdentity = "no identity with this address"
	StatusFailed     = "failed"
)

// State is what the agent did last, kept in the device home so that
// `endymail status` can tell even when the agent is not running.
type State struct {
	PID       int       `json:"pid"`
	Started   time.Time `json:"started"`
	LastRun   time.Time `json:"last_run,omitzero"`
	Reason    string    `json:"reason,omitempty"`  // what woke the last run
	Summary   string    `json:"summary,omitempty"` // one line a user can read
	Head      uint64    `json:"head"`
	Error     string    `json:"error,omitempty"`
	NextRetry time.Time `json:"next_retry,omitzero"`
	// InProgress names the run that was configuring clients; it stays set
	// when the agent died mid-way, and the next start completes the work.
	InProgress *time.Time               `json:"in_progress,omitempty"`
	Addresses  map[string][]ClientState `json:"addresses,omitempty"`
	Prompts    []PromptState            `json:"prompts,omitempty"`
}

// ClientState is what the agent last did to one client for one address.
type ClientState struct {
	Client   string    `json:"client"`
	Status   string    `json:"status"`
	Actions  []string  `json:"actions,omitempty"`
	Deferred []string  `json:"deferred,omitempty"`
	Error    string    `json:"error,omitempty"`
	At       time.Time `json:"at"`
}

// PromptState is an approval prompt the agent showed and its answer.
type PromptState struct {
	ID     string    `json:"id"`
	Name   string    `json:"name"`
	Code   string    `json:"code"`
	Answer string    `json:"answer"` // "asked", "approved", "denied", "unanswered", "failed: …"
	At     time.Time `json:"at"`
}

// maxPrompts caps the prompt history kept in the state file.
const maxPrompts = 20

// ReadState reads the state file at path. A missing file is
// fs.ErrNotExist: the agent never ran with this home.
func ReadState(path string) (*State, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("agent state %s: corrupt: %w", path, err)
	}
	return &st, nil
}

// writeState writes st atomically with mode 0600.
func writeState(path string, st *State) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, 0o600)
}

// readOrEmpty reads the previous state, or an empty one when there is
// none or it is unreadable (the agent rewrites it).
func readOrEmpty(path string) (*State, error) {
	st, err := ReadState(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &State{}, nil
	}
	if err != nil {
		return &State{}, err
	}
	return st, nil
}
