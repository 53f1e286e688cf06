package nsslib

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// ErrHelper means the helper process failed without an answer: it could
// not start, crashed, or was stopped by the context.
var ErrHelper = errors.New("NSS helper process failed")

// Present reports whether dir holds [LibraryFile].
func Present(dir string) bool {
	if LibraryFile == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(dir, LibraryFile))
	return err == nil
}

// ServeIfHelper turns this process into the NSS helper when [HelperEnv]
// is set to the protocol version: it reads one [Request] from standard
// input, runs it, writes the [Response] to standard output and exits. It
// returns at once, doing nothing, when the variable is not set. Call it
// first thing in main and in TestMain.
func ServeIfHelper() {
	v, ok := os.LookupEnv(HelperEnv)
	if !ok {
		return
	}
	if v != strconv.Itoa(ProtocolVersion) {
		fmt.Fprintf(os.Stderr, "nss helper: %s=%q, want %d\n", HelperEnv, v, ProtocolVersion)
		os.Exit(2)
	}
	// NSS and NSPR keep per-thread state (PR_GetError's code, NSPR's
	// thread attachment): the whole session must stay on one OS thread, or
	// an error code is read on another thread than the failing call ran.
	runtime.LockOSThread()
	os.Exit(serve(os.Stdin, os.Stdout))
}

// serve answers one request; it returns the exit code.
func serve(in io.Reader, out io.Writer) int {
	resp := Response{Version: ProtocolVersion}
	req, err := DecodeRequest(in)
	if err == nil {
		resp.Results, err = run(req)
	}
	if err != nil {
		resp.Err = toWire(err)
	}
	if err := json.NewEncoder(out).Encode(&resp); err != nil {
		fmt.Fprintf(os.Stderr, "nss helper: %v\n", err)
		return 1
	}
	return 0
}

// toWire is the one way an error crosses to the parent.
func toWire(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Op: "request", What: err.Error()}
}

// Run runs the operations on the database in db with the NSS libraries in
// libDir, in a child process (os.Executable with [HelperEnv] set). It
// returns one [Result] per operation; an NSS failure is an [*Error] (with
// the results of the operations before it), a child that crashes or
// outlives ctx wraps [ErrHelper].
func Run(ctx context.Context, libDir, db string, ops ...Op) ([]Result, error) {
	if _, inHelper := os.LookupEnv(HelperEnv); inHelper {
		// The program did not call ServeIfHelper first; do not recurse.
		return nil, fmt.Errorf("%w: Run called in a helper process (does main call nsslib.ServeIfHelper first?)", ErrHelper)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrHelper, err)
	}
	req, err := json.Marshal(Request{Version: ProtocolVersion, Lib: libDir, DB: db, Ops: ops})
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), HelperEnv+"="+strconv.Itoa(ProtocolVersion))
	cmd.Stdin = bytes.NewReader(req)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%w: %v", ErrHelper, ctx.Err())
	}
	resp, err := DecodeResponse(&stdout, len(ops))
	if runErr != nil || err != nil {
		why := runErr
		if why == nil {
			why = err
		}
		pid := 0
		if cmd.Process != nil {
			pid = cmd.Process.Pid
		}
		return nil, fmt.Errorf("%w: %s (pid %d): %v: %s", ErrHelper, exe, pid, why, crashReport(stderr.String()))
	}
	if resp.Err != nil {
		return resp.Results, resp.Err
	}
	return resp.Results, nil
}

// crashReport keeps the start of a crashed helper's standard error: the
// signal and the stack of the goroutine that was in NSS.
func crashReport(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 3000 {
		s = s[:3000] + "…"
	}
	return s
}
