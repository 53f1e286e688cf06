package tbtest

import (
	"encoding/json"
	"fmt"
)

// JSError is an exception thrown by a script run through [Instance.Eval].
type JSError struct {
	Message string `json:"message"`
	Stack   string `json:"stack"`
}

func (e *JSError) Error() string { return "thunderbird script: " + e.Message }

// wrapAsync turns js into an ExecuteAsyncScript body: js runs as an async
// function over the script arguments, and its outcome is passed to the
// Marionette callback as {ok: value} or {err: {message, stack}}.
func wrapAsync(js string) string {
	return `const __done = arguments[arguments.length - 1];
const __args = Array.prototype.slice.call(arguments, 0, -1);
(async function () {
` + js + `
}).apply(null, __args).then(
  v => __done({ ok: v === undefined ? null : v }),
  e => __done({ err: { message: String(e && e.message || e), stack: String(e && e.stack || "") } }),
);`
}

// decodeOutcome unpacks the {ok}/{err} object made by wrapAsync.
func decodeOutcome(raw json.RawMessage) (json.RawMessage, error) {
	var out struct {
		OK  json.RawMessage `json:"ok"`
		Err *JSError        `json:"err"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("script outcome %.300s: %w", raw, err)
	}
	if out.Err != nil {
		return nil, out.Err
	}
	if out.OK == nil {
		return nil, fmt.Errorf("script outcome %.300s has neither ok nor err", raw)
	}
	return out.OK, nil
}

// openWindowsJS lists every open window with its type, title and, for
// dialogs, their text (a synchronous script: it must run while another
// script is blocked).
const openWindowsJS = `
const out = [];
for (const w of Services.wm.getEnumerator(null)) {
  const d = w.document;
  const el = d && d.documentElement;
  out.push({
    type: el ? el.getAttribute("windowtype") : null,
    url: String(w.location),
    title: d ? d.title : null,
    text: d && d.getElementById("infoBody") ? d.getElementById("infoBody").textContent : null,
  });
}
return out;`
