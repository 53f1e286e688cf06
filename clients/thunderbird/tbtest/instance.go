// Package tbtest runs the real Thunderbird from Go tests: it creates and
// copies profiles, starts Thunderbird headless with Marionette, and runs
// chrome-context JavaScript in it (accounts, identity prefs, NSS
// certificate checks, OpenPGP key import and checks, and sending a message
// through Thunderbird's own send path).
//
// Typical use in a test, with an SMTP sink from internal/smtpsink:
//
//	base := tbtest.NewProfile(t)
//	tbtest.FirstStart(t, base)         // writes prefs.js, cert9.db, key4.db, ...
//	dir := tbtest.CopyProfile(t, base)  // Marionette writes prefs: use a copy
//	tb := tbtest.Start(t, dir, tbtest.Options{})
//	tb.AddMailAccount(ctx, tbtest.Account{Address: a, SMTPHost: sink.Host(), SMTPPort: sink.Port()})
//	tb.Quit()                           // now configure the closed profile
//	tb = tbtest.Start(t, dir, tbtest.Options{})
//	sent, err := tb.SendMessage(ctx, tbtest.Message{From: a, To: to, Auto: true})
//	msgs, err := sink.Wait(ctx, 1)
//
// Every Thunderbird gets its own HOME (a test temp dir), so nothing touches
// the real user's configuration. A missing Thunderbird skips the test (or
// fails it under ENDYMAIL_REQUIRE_INTEROP=1, see internal/interop).
// Nothing blocks forever: a modal dialog during a script is dismissed and
// reported as [ErrModalDialog] with its text, a dialog at startup as
// [ErrStartupBlocked], and every wait has a timeout.
package tbtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/endymail/endymail/clients/thunderbird/marionette"
	"github.com/endymail/endymail/internal/interop"
)

// Default timeouts; [Options] overrides them.
const (
	DefaultStartTimeout  = 60 * time.Second
	DefaultScriptTimeout = 60 * time.Second
	quitTimeout          = 30 * time.Second
)

// Options tunes [Start]. The zero value is fine.
type Options struct {
	// Env is added to the environment of the Thunderbird process.
	Env []string
	// StartTimeout bounds the wait for Marionette to come up.
	StartTimeout time.Duration
	// ScriptTimeout bounds each script run by [Instance.Eval].
	ScriptTimeout time.Duration
}

// Instance is one running Thunderbird with a chrome-context Marionette
// session.
type Instance struct {
	t       testing.TB
	Dir     string // the profile folder
	client  *marionette.Client
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	waitErr error
	output  *syncBuffer // Thunderbird's stdout and stderr
	script  time.Duration
}

// Binary returns the Thunderbird executable, skipping t if there is none.
func Binary(t testing.TB) string {
	t.Helper()
	return interop.Need(t, "thunderbird", "thunderbird")
}

// Start runs Thunderbird headless on profileDir with Marionette on a free
// port, connects and switches to the chrome context. It writes
// `marionette.port` = 0 into profileDir's user.js, so pass a copy (see
// [CopyProfile]). Thunderbird is killed when the test ends if it still
// runs. Start fails t when Thunderbird does not come up; see [Launch].
func Start(t testing.TB, profileDir string, opts Options) *Instance {
	t.Helper()
	in, err := Launch(t, profileDir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// ErrStartupBlocked reports a Thunderbird that opened Marionette but whose
// main window never came up within [Options.StartTimeout], which is what a
// modal dialog at startup looks like from outside.
var ErrStartupBlocked = errors.New("thunderbird did not finish starting")

// Launch is [Start] returning an error, for tests that expect Thunderbird
// not to come up. The error includes Thunderbird's output.
func Launch(t testing.TB, profileDir string, opts Options) (*Instance, error) {
	t.Helper()
	bin := Binary(t)
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	if opts.ScriptTimeout <= 0 {
		opts.ScriptTimeout = DefaultScriptTimeout
	}
	if err := writeUserJS(profileDir); err != nil {
		return nil, err
	}
	portFile := filepath.Join(profileDir, "MarionetteActivePort")
	os.Remove(portFile) // a stale file from an earlier run would mislead us
	in := &Instance{t: t, Dir: profileDir, done: make(chan struct{}),
		output: new(syncBuffer), script: opts.ScriptTimeout}
	in.cmd = exec.Command(bin, "--headless", "--marionette", "--remote-allow-system-access",
		"-profile", profileDir, "-no-remote")
	in.cmd.Env = append(isolatedEnv(t), opts.Env...)
	in.cmd.Stdout, in.cmd.Stderr = in.output, in.output
	setProcessGroup(in.cmd)
	if err := in.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting thunderbird: %w", err)
	}
	go func() { in.waitErr = in.cmd.Wait(); close(in.done) }()
	t.Cleanup(in.cleanup)

	ctx, cancel := context.WithTimeout(context.Background(), opts.StartTimeout)
	defer cancel()
	if err := in.connect(ctx, portFile); err != nil {
		killProcess(in.cmd) // a blocked Thunderbird would only burn CPU
		<-in.done
		return nil, fmt.Errorf("thunderbird on %s: %w\n%s", profileDir, err, withoutNoise(in.Output()))
	}
	return in, nil
}

// connect waits for the port file, dials and prepares a chrome session.
func (in *Instance) connect(ctx context.Context, portFile string) error {
	port, err := in.waitPort(ctx, portFile)
	if err != nil {
		return err
	}
	in.client, err = marionette.Dial(ctx, net2addr(port))
	if err != nil {
		return err
	}
	// A modal dialog is dismissed and reported on the next command, so a
	// test sees it (see ErrModalDialog) instead of hanging.
	caps := map[string]any{"unhandledPromptBehavior": "dismiss and notify"}
	if _, err := in.client.NewSession(ctx, caps); err != nil {
		if ctx.Err() != nil {
			// Marionette answers NewSession once the main window is up.
			return fmt.Errorf("%w: no answer to Marionette:NewSession within the start timeout; "+
				"a modal dialog at startup is the usual cause%s (%v)", ErrStartupBlocked, startupHint(in.Dir), err)
		}
		return err
	}
	if err := in.client.SetContext(ctx, marionette.ContextChrome); err != nil {
		return fmt.Errorf("chrome context (needs --remote-allow-system-access): %w", err)
	}
	return in.client.SetScriptTimeout(ctx, in.script)
}

// startupHint names a known cause of a blocked startup found in the
// profile, or returns "".
func startupHint(dir string) string {
	_, errSec := os.Stat(filepath.Join(dir, "secring.gpg"))
	_, errPass := os.Stat(filepath.Join(dir, "encrypted-openpgp-passphrase.txt"))
	if errSec == nil && errPass != nil {
		return `, here probably "OpenPGP corruption detected": secring.gpg exists but ` +
			`encrypted-openpgp-passphrase.txt does not (start a profile once before adding secret keys)`
	}
	return ""
}

func net2addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// waitPort polls for MarionetteActivePort until ctx ends or the process
// exits.
func (in *Instance) waitPort(ctx context.Context, portFile string) (int, error) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		b, err := os.ReadFile(portFile)
		if err == nil {
			if port, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && port > 0 {
				return port, nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("waiting for %s: %w", portFile, ctx.Err())
		case <-in.done:
			return 0, fmt.Errorf("thunderbird exited before opening marionette: %v", in.waitErr)
		case <-tick.C:
		}
	}
}

// Client returns the Marionette client, for commands tbtest does not wrap.
func (in *Instance) Client() *marionette.Client { return in.client }

// Output returns what Thunderbird printed so far.
func (in *Instance) Output() string { return in.output.String() }

// Quit shuts Thunderbird down through Marionette:Quit and waits for the
// process to exit, so that prefs.js and the databases are written.
func (in *Instance) Quit() error {
	select {
	case <-in.done:
		return fmt.Errorf("thunderbird had already exited: %v", in.waitErr)
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), quitTimeout)
	defer cancel()
	_, qerr := in.client.Quit(ctx)
	in.client.Close()
	select {
	case <-in.done:
	case <-ctx.Done():
		killProcess(in.cmd)
		<-in.done
		return fmt.Errorf("thunderbird did not exit within %v of Marionette:Quit (quit: %v)", quitTimeout, qerr)
	}
	if qerr != nil {
		return fmt.Errorf("marionette quit: %w", qerr)
	}
	if in.waitErr != nil {
		return fmt.Errorf("thunderbird exit: %w", in.waitErr)
	}
	return nil
}

// cleanup kills a Thunderbird the test left running and logs its output
// when the test failed.
func (in *Instance) cleanup() {
	select {
	case <-in.done:
	default:
		if in.client != nil {
			in.client.Close()
		}
		killProcess(in.cmd)
		<-in.done
	}
	if in.t.Failed() {
		in.t.Logf("thunderbird output (%s):\n%s", in.Dir, tail(withoutNoise(in.Output()), 8000))
	}
}

// Eval runs js in the chrome context as the body of an async function
// whose arguments are args, and returns the JSON of its return value. A
// thrown exception becomes a [*JSError]. A modal dialog (which Marionette
// dismisses) ends the script with an error wrapping [ErrModalDialog] and
// the dialog's text; a script that outlives the script timeout fails with
// the list of open windows.
func (in *Instance) Eval(ctx context.Context, js string, args ...any) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, in.script+10*time.Second)
	defer cancel()
	raw, err := in.client.ExecuteAsyncScript(ctx, wrapAsync(js), args)
	var merr *marionette.Error
	switch {
	case errors.As(err, &merr) && merr.Code == "script timeout":
		return nil, fmt.Errorf("%w; open windows: %s", err, in.openWindows())
	case err != nil:
		return nil, err
	case isNull(raw):
		// wrapAsync always resolves an object: the script was abandoned.
		return nil, in.interruption(ctx)
	}
	return decodeOutcome(raw)
}

// ErrModalDialog reports that Thunderbird opened a modal dialog (an alert,
// a confirmation) while a script ran. Marionette dismissed it.
var ErrModalDialog = errors.New("thunderbird opened a modal dialog")

// interruption explains a script that ended without a result: Marionette
// reports a dismissed dialog on the next command.
func (in *Instance) interruption(ctx context.Context) error {
	_, err := in.client.ExecuteScript(ctx, "return 0", nil)
	var merr *marionette.Error
	if errors.As(err, &merr) && merr.Code == "unexpected alert open" {
		var data struct {
			Text string `json:"text"`
		}
		json.Unmarshal(merr.Data, &data)
		return fmt.Errorf("%w: %q", ErrModalDialog, data.Text)
	}
	return fmt.Errorf("script ended without a result (next command: %v)", err)
}

func isNull(raw json.RawMessage) bool { return strings.TrimSpace(string(raw)) == "null" }

// SetScriptTimeout changes the script timeout of [Instance.Eval] and the
// helpers (default [Options.ScriptTimeout]).
func (in *Instance) SetScriptTimeout(ctx context.Context, d time.Duration) error {
	if err := in.client.SetScriptTimeout(ctx, d); err != nil {
		return err
	}
	in.script = d
	return nil
}

// EvalInto is [Instance.Eval] decoding the result into v.
func (in *Instance) EvalInto(ctx context.Context, v any, js string, args ...any) error {
	raw, err := in.Eval(ctx, js, args...)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decoding script result %.300s: %w", raw, err)
	}
	return nil
}

// openWindows describes Thunderbird's open windows (type, title, and the
// text of any dialog), for diagnosing a blocked script.
func (in *Instance) openWindows() string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := in.client.ExecuteScript(ctx, openWindowsJS, nil)
	if err != nil {
		return "(unknown: " + err.Error() + ")"
	}
	return string(raw)
}

// syncBuffer is a bytes.Buffer safe for the process's writers and readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// withoutNoise drops the GTK warnings a headless Thunderbird prints by the
// hundred.
func withoutNoise(out string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(out, "\n") {
		if strings.Contains(line, "Gtk-CRITICAL") || strings.Contains(line, "glib warning") ||
			strings.TrimSpace(line) == "" {
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
