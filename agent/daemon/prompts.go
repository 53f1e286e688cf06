package daemon

import (
	"context"
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
		d.log.Warn("cannot show the approval prompt; use 'endymail pending' and 'endymail approve'", "err", err)
		d.recordPrompt(r, "failed: "+err.Error())
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
			if p.Answer == "asked" && !open[p.ID] {
				st.Prompts[i].Answer, st.Prompts[i].At = "answered elsewhere or expired", d.cfg.Now()
			}
		}
	})
}
