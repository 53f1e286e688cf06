package tbtest

import (
	"bytes"
	"context"
	"errors"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/endymail/endymail/clients/thunderbird/marionette"
	"github.com/endymail/endymail/internal/smtpsink"
)

// These tests drive the real Thunderbird. They share one first-started
// base profile and run each scenario on a copy of it.

const (
	alice = "alice@example.test"
	bob   = "bob@example.test"
)

// testCtx bounds one scenario so that a hang fails instead of blocking.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestThunderbird(t *testing.T) {
	base := NewProfile(t)
	if missing := MissingFiles(base, []string{"prefs.js", "cert9.db"}); len(missing) != 2 {
		t.Fatalf("-CreateProfile already wrote files; missing only %v", missing)
	}
	FirstStart(t, base)
	if missing := MissingFiles(base, FirstStartFiles); len(missing) > 0 {
		t.Fatalf("first start left %s without %v", base, missing)
	}
	if _, err := os.Stat(filepath.Join(base, "user.js")); !os.IsNotExist(err) {
		t.Errorf("user.js after FirstStart: got err %v, want not exist", err)
	}

	t.Run("PlainSend", func(t *testing.T) { testPlainSend(t, base) })
	t.Run("SMIME", func(t *testing.T) { testSMIME(t, base) })
	t.Run("OpenPGP", func(t *testing.T) { testOpenPGP(t, base) })
	t.Run("SecretKeyBeforeFirstStart", func(t *testing.T) { testSecretKeyBeforeFirstStart(t, base) })
}

// startWithAccount starts Thunderbird on dir with alice's account sending
// through sink.
func startWithAccount(t *testing.T, ctx context.Context, dir string, sink *smtpsink.Sink) *Instance {
	tb := Start(t, dir, Options{})
	keys, err := tb.AddMailAccount(ctx, Account{
		Address: alice, Name: "Alice Test", IMAPPort: 1, SMTPHost: sink.Host(), SMTPPort: sink.Port(),
	})
	if err != nil {
		t.Fatal(err)
	}
	prefs, err := tb.IdentityPrefs(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if prefs["key"] != keys.Identity || prefs["useremail"] != alice || prefs["fcc"] != false {
		t.Fatalf("identity prefs: got key %v useremail %v fcc %v, want %s %s false",
			prefs["key"], prefs["useremail"], prefs["fcc"], keys.Identity, alice)
	}
	return tb
}

// checkEval proves Eval's contract on the real Thunderbird: values, thrown
// errors, and a script that never finishes.
func checkEval(t *testing.T, ctx context.Context, tb *Instance) {
	t.Helper()
	var got struct {
		Version string `json:"version"`
		Sum     int    `json:"sum"`
	}
	err := tb.EvalInto(ctx, &got, `const [a, b] = arguments;
		await new Promise(r => setTimeout(r, 10));
		return { version: Services.appinfo.version, sum: a + b };`, 40, 2)
	if err != nil || got.Sum != 42 || got.Version == "" {
		t.Fatalf("EvalInto: got %+v, %v; want sum 42 and a version", got, err)
	}
	_, err = tb.Eval(ctx, `throw new Error("boom " + arguments[0]);`, "x")
	var jsErr *JSError
	if !errors.As(err, &jsErr) || jsErr.Message != "boom x" || jsErr.Stack == "" {
		t.Fatalf("thrown error: got %v, want *JSError \"boom x\" with a stack", err)
	}
	if err := tb.SetScriptTimeout(ctx, 500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	_, err = tb.Eval(ctx, `await new Promise(() => {});`)
	var merr *marionette.Error
	if !errors.As(err, &merr) || merr.Code != "script timeout" || !strings.Contains(err.Error(), "mail:3pane") {
		t.Fatalf("endless script: got %v, want a script timeout listing the open windows", err)
	}
	if err := tb.SetScriptTimeout(ctx, DefaultScriptTimeout); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.Eval(ctx, `return 1;`); err != nil {
		t.Fatalf("after a script timeout: %v", err)
	}
}

func testPlainSend(t *testing.T, base string) {
	ctx := testCtx(t)
	sink := smtpsink.Start(t)
	tb := startWithAccount(t, ctx, CopyProfile(t, base), sink)
	checkEval(t, ctx, tb)

	subject := "plain hello " + t.Name()
	sent, err := tb.SendMessage(ctx, Message{From: alice, To: []string{bob}, Subject: subject, Body: "Hello Bob.\n", Auto: true})
	if err != nil {
		t.Fatal(err)
	}
	if sent.Sign || sent.Encrypt || sent.Tech != "" {
		t.Errorf("compose defaults of an identity without keys: got %+v, want no protection", sent)
	}
	id := sent.MessageID
	msgs, err := sink.Wait(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := msgs[0]
	if m.From != alice || len(m.To) != 1 || m.To[0] != bob {
		t.Errorf("envelope: got from %q to %q, want %q to [%q]", m.From, m.To, alice, bob)
	}
	hdr := parseHeader(t, m.Data)
	if got := hdr.Get("Subject"); got != subject {
		t.Errorf("Subject: got %q, want %q", got, subject)
	}
	if got := hdr.Get("From"); got != "Alice Test <"+alice+">" {
		t.Errorf("From: got %q, want Alice Test <%s>", got, alice)
	}
	if got := hdr.Get("To"); got != bob {
		t.Errorf("To: got %q, want %q", got, bob)
	}
	if got := hdr.Get("Message-ID"); id == "" || !strings.Contains(got, id) {
		t.Errorf("Message-ID: header %q, send listener said %q", got, id)
	}
	if !bytes.Contains(m.Data, []byte("Hello Bob.")) {
		t.Errorf("body lacks the text:\n%s", m.Data)
	}
	if err := tb.Quit(); err != nil {
		t.Error(err)
	}
	if err := tb.Quit(); err == nil {
		t.Error("second Quit: got nil, want an error")
	}
}

func parseHeader(t *testing.T, data []byte) mail.Header {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("sink message does not parse: %v\n%s", err, data)
	}
	return msg.Header
}
