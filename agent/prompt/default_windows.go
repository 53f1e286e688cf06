package prompt

import (
	"context"

	"github.com/endymail/endymail/clients/windows/winui"
)

// Default returns the message-box prompter.
func Default() (Prompter, error) { return messageBox{}, nil }

// messageBox asks with a modal Yes/No box (No is the default button).
type messageBox struct{}

func (messageBox) Ask(ctx context.Context, r Request) (Answer, error) {
	type result struct {
		a   winui.Answer
		err error
	}
	done := make(chan result, 1)
	title, body := Text(r)
	go func() {
		a, err := winui.Ask(title, body+"\n\nApprove?")
		done <- result{a, err}
	}()
	select {
	case <-ctx.Done():
		return Unanswered, nil
	case res := <-done:
		if res.err != nil {
			return Unanswered, res.err
		}
		if res.a == winui.Yes {
			return Approve, nil
		}
		return Deny, nil
	}
}
