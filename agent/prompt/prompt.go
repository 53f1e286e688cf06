// Package prompt asks the user to approve a device that wants to join the
// account (DESIGN.md §4 step 3): "Device 'laptop' wants to use your mail
// keys. Code XXXX-XXXX-… Approve / Deny".
//
// A [Prompter] shows one [Request] and waits for the answer. [NewDBus] uses
// the freedesktop notification service on a D-Bus session bus (actions
// "approve" and "deny"); [Default] picks what the platform offers: the
// session bus on Linux and BSD, a message box on Windows, and
// errors.ErrUnsupported elsewhere. The `endymail pending` / `approve` path
// always works besides.
package prompt

import (
	"context"
	"fmt"
	"time"
)

// Request is a connection request to show.
type Request struct {
	ID      string
	Name    string // the device's name, as it calls itself
	Device  string // the device's fingerprint
	Code    string // the witness code both screens show
	Expires time.Time
}

// Answer is the user's reply.
type Answer int

// The answers. Unanswered means the prompt was dismissed, timed out or the
// context ended: the request stays pending and expires on its own.
const (
	Unanswered Answer = iota
	Approve
	Deny
)

func (a Answer) String() string {
	switch a {
	case Approve:
		return "approved"
	case Deny:
		return "denied"
	}
	return "unanswered"
}

// Prompter shows a request to the user and returns the answer. It returns
// Unanswered with a nil error when the user dismissed the prompt or ctx
// ended, and an error only when the prompt could not be shown.
type Prompter interface {
	Ask(ctx context.Context, r Request) (Answer, error)
}

// Text is the title and body every prompt shows.
func Text(r Request) (title, body string) {
	title = "endymail: approve a new device?"
	body = fmt.Sprintf("Device %q wants to use your mail keys.\nCode %s\n\nApprove only if the new device shows the same code.", r.Name, r.Code)
	return title, body
}
