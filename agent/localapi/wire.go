package localapi

import (
	"errors"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/agent/daemon"
	"github.com/endymail/endymail/clients"
)

// Status is the answer to GET /v1/status: the device's state and what the
// agent did last.
type Status struct {
	Agent  *agent.Status `json:"agent"`
	Daemon daemon.State  `json:"daemon"`
}

// ApproveRequest is the body of POST /v1/approve.
type ApproveRequest struct {
	Code  string `json:"code,omitempty"`
	ID    string `json:"id,omitempty"`
	Admin bool   `json:"admin,omitempty"`
}

// DenyRequest is the body of POST /v1/deny.
type DenyRequest struct {
	ID string `json:"id"`
}

// ClientResult is one client's outcome in the answer to POST /v1/configure.
type ClientResult struct {
	Client string         `json:"client"`
	Report clients.Report `json:"report"`
	Error  *Error         `json:"error,omitempty"`
}

// Error is an error on the wire: a code callers branch on and the message.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"error"`
}

// Error codes and the sentinel errors they stand for.
var codes = []struct {
	code string
	err  error
}{
	{"no_match", agent.ErrNoMatch},
	{"not_admin", agent.ErrNotAdmin},
	{"not_enabled", agent.ErrNotEnabled},
	{"client_running", clients.ErrClientRunning},
	{"no_identity", clients.ErrNoIdentity},
	{"corrupt", clients.ErrCorrupt},
}

// ErrFailed is what an error without a known code unwraps to.
var ErrFailed = errors.New("the agent reported a failure")

// toWire turns an error into its wire form (nil for nil).
func toWire(err error) *Error {
	if err == nil {
		return nil
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return &Error{Code: c.code, Message: err.Error()}
		}
	}
	return &Error{Code: "failed", Message: err.Error()}
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the sentinel error of the code.
func (e *Error) Unwrap() error {
	for _, c := range codes {
		if c.code == e.Code {
			return c.err
		}
	}
	return ErrFailed
}

// fromWire turns a wire error back into an error (nil for nil).
func fromWire(e *Error) error {
	if e == nil {
		return nil
	}
	return e
}
