package marionette

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// NewSession starts a WebDriver session with the given capabilities
// (alwaysMatch; nil for none) and returns its id. For example
// {"unhandledPromptBehavior": "dismiss and notify"} makes a modal dialog
// fail the next command with an "unexpected alert open" [*Error] whose
// Data holds the dialog text.
func (c *Client) NewSession(ctx context.Context, capabilities map[string]any) (string, error) {
	if capabilities == nil {
		capabilities = map[string]any{}
	}
	raw, err := c.Call(ctx, "WebDriver:NewSession", map[string]any{
		"capabilities": map[string]any{"alwaysMatch": capabilities},
	})
	if err != nil {
		return "", err
	}
	var res struct {
		SessionID string `json:"sessionId"`
	}
	if err := json.Unmarshal(raw, &res); err != nil || res.SessionID == "" {
		return "", fmt.Errorf("%w: new session result %s has no sessionId", ErrProtocol, raw)
	}
	return res.SessionID, nil
}

// SetContext switches between [ContextChrome] and [ContextContent].
func (c *Client) SetContext(ctx context.Context, context string) error {
	_, err := c.Call(ctx, "Marionette:SetContext", map[string]string{"value": context})
	return err
}

// SetScriptTimeout sets how long an asynchronous script may run before the
// server abandons it with a "script timeout" error.
func (c *Client) SetScriptTimeout(ctx context.Context, d time.Duration) error {
	_, err := c.Call(ctx, "WebDriver:SetTimeouts", map[string]int64{"script": d.Milliseconds()})
	return err
}

// ExecuteScript runs script as a function body in the "system" sandbox with
// args available as `arguments` and returns the JSON of its return value.
func (c *Client) ExecuteScript(ctx context.Context, script string, args []any) (json.RawMessage, error) {
	return c.execute(ctx, "WebDriver:ExecuteScript", script, args)
}

// ExecuteAsyncScript runs script like [Client.ExecuteScript], except that the
// result is what the script passes to its last argument, the resolve
// callback (`arguments[arguments.length - 1]`). If the script returns a
// promise, its resolution is the result.
func (c *Client) ExecuteAsyncScript(ctx context.Context, script string, args []any) (json.RawMessage, error) {
	return c.execute(ctx, "WebDriver:ExecuteAsyncScript", script, args)
}

func (c *Client) execute(ctx context.Context, cmd, script string, args []any) (json.RawMessage, error) {
	if args == nil {
		args = []any{}
	}
	raw, err := c.Call(ctx, cmd, map[string]any{
		"script":  script,
		"args":    args,
		"sandbox": "system",
	})
	if err != nil {
		return nil, err
	}
	return unwrapValue(raw)
}

// unwrapValue returns the "value" member of a script result.
func unwrapValue(raw json.RawMessage) (json.RawMessage, error) {
	var res struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, fmt.Errorf("%w: script result %.200s is not an object: %v", ErrProtocol, raw, err)
	}
	if res.Value == nil {
		return json.RawMessage("null"), nil
	}
	return res.Value, nil
}

// Quit asks the application to quit (Marionette:Quit with no flags, i.e.
// nsIAppStartup.eAttemptQuit) and returns the server's answer, such as
// {"cause":"shutdown"}. The server closes the connection afterwards.
func (c *Client) Quit(ctx context.Context) (json.RawMessage, error) {
	return c.Call(ctx, "Marionette:Quit", map[string]any{"flags": []string{}})
}
