// Package winui shows the agent's questions to the user on Windows: a
// modal Yes/No message box, used for "Device 'laptop' wants to use your
// mail keys. Code XXXX-XXXX-… Approve?" (DESIGN.md §4).
//
// Use [Ask]. On platforms other than Windows it returns an error wrapping
// errors.ErrUnsupported; the agent then falls back to `endymail pending`.
package winui

// Answer is the user's reply to [Ask].
type Answer int

// The answers. Yes means Approve, No means Deny.
const (
	No Answer = iota
	Yes
)

// Ask shows a modal, top-most Yes/No box with the title and text and waits
// for the answer. No is the default button, so a stray Enter denies.
func Ask(title, text string) (Answer, error) { return ask(title, text) }
