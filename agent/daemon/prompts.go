package daemon

import (
	"context"
	"strings"
	"time"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/agent/prompt"
)

// promptPending raises one prompt per connection request not yet shown.
// Prompts run in the background: the loop goes on while the user decides.
func (d *Daemon) promptPending(ctx context.Context) {
	reqs, err := d.cfg.Agent.Pending(ctx)
	if err != nil {
		d.log.Warn("cannot list connection requests", "err", err)
		return
	}
	d.settlePrompts(reqs)
	for _, r := range reqs {
		d.mu.Lock()
		seen := d.asked[r.ID]
		d.asked[r.ID] = true
		d.mu.Unlock()
		if seen {
			continue
		}
		d.log.Info("a device asks to join the account; approve with 'endymail approve CODE' or in the prompt",
			"device", r.Name, "code", r.Code, "id", r.ID, "expires", r.Expires.Format(time.RFC3339))
		d.recordPrompt(r, "asked")
		if d.cfg.Prompter != nil {
			go d.ask(ctx, r)
		}
	}
}

// ask shows one prompt and carries out the answer.
func (d *Daemon) ask(ctx context.Context, r agent.PendingRequest) {
	ctx, cancel := context.WithDeadline(ctx, r.Expires)
	defer cancel()
	ans, err := d.cfg.Prompter.Ask(ctx, prompt.Request{ID: r.ID, Name: r.Name, Device: r.Device, Code: r.Code, Expires: r.Expires})
	if err != nil {
		d.promptFailed(ctx, r, err)
		return
	}
	switch ans {
	case prompt.Approve:
		_, err = d.cfg.Agent.Approve(ctx, agent.ApproveOptions{ID: r.ID})
	case prompt.Deny:
		err = d.cfg.Agent.Deny(ctx, r.ID)
	}
	if err != nil {
		d.log.Error("cannot carry out the answer to the prompt", "device", r.Name, "answer", ans, "err", err)
		d.recordPrompt(r, "failed: "+err.Error())
		return
	}
	d.log.Info("prompt answered", "device", r.Name, "code", r.Code, "answer", ans)
	d.recordPrompt(r, ans.String())
	d.Kick("prompt answered")
}

// askAgain starts the record of a prompt that failed to show and will be
// raised again.
const askAgain = "failed, will ask again: "

// promptFailed records a prompt that could not be shown and raises it again
// after Config.PromptRetry while the request is still open: at login the
// agent may start before the desktop's notification service.
func (d *Daemon) promptFailed(ctx context.Context, r agent.PendingRequest, err error) {
	if ctx.Err() != nil {
		d.recordPrompt(r, "failed: "+err.Error())
		return
	}
	again := d.cfg.Now().Add(d.cfg.PromptRetry)
	if !again.Before(r.Expires) {
		d.log.Warn("cannot show the approval prompt; use 'endymail pending' and 'endymail approve'", "err", err)
		d.recordPrompt(r, "failed: "+err.Error())
		return
	}
	d.log.Warn("cannot show the approval prompt; trying again, or use 'endymail pending' and 'endymail approve'",
		"err", err, "again", again.Format(time.RFC3339))
	d.recordPrompt(r, askAgain+err.Error())
	d.mu.Lock()
	delete(d.asked, r.ID)
	d.mu.Unlock()
	time.AfterFunc(d.cfg.PromptRetry, func() { d.Kick("raise the approval prompt again") })
}

func (d *Daemon) recordPrompt(r agent.PendingRequest, answer string) {
	d.update(func(st *State) {
		for i := range st.Prompts {
			if st.Prompts[i].ID == r.ID {
				st.Prompts[i].Answer, st.Prompts[i].At = answer, d.cfg.Now()
				return
			}
		}
		st.Prompts = append(st.Prompts, PromptState{ID: r.ID, Name: r.Name, Code: r.Code, Answer: answer, At: d.cfg.Now()})
		if len(st.Prompts) > maxPrompts {
			st.Prompts = st.Prompts[len(st.Prompts)-maxPrompts:]
		}
	})
}

// settlePrompts records that requests asked about and no longer pending
// were answered elsewhere (`endymail approve`, another admin) or expired.
func (d *Daemon) settlePrompts(pending []agent.PendingRequest) {
	open := map[string]bool{}
	for _, r := range pending {
		open[r.ID] = true
	}
	d.update(func(st *State) {
		for i, p := range st.Prompts {
			if (p.Answer == "asked" || strings.HasPrefix(p.Answer, askAgain)) && !open[p.ID] {
				st.Prompts[i].Answer, st.Prompts[i].At = "answered elsewhere or expired", d.cfg.Now()
			}
		}
	})
}
