package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/endymail/endymail/internal/interop"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"endymail": func() {
			os.Exit(mainWithEnv(os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}))
		},
	})
}

// TestScripts runs the CLI end to end: each testdata/script/*.txtar is one
// feature, driving the real binary against the real mesh service on loopback.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"startmesh": cmdStartMesh,
			"getcode":   cmdGetCode,
			"need":      cmdNeed,
		},
	})
}

// startmesh [args...] runs `endymail mesh serve` in the background on a free
// loopback port with its data under $WORK/mesh, and sets $MESH to its URL.
func cmdStartMesh(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! startmesh")
	}
	bin, err := exec.LookPath("endymail")
	ts.Check(err)
	ctx, cancel := context.WithCancel(context.Background())
	all := append([]string{"mesh", "serve", "--listen", "127.0.0.1:0", "--data", ts.MkAbs("mesh"), "--pow-bits", "8"}, args...)
	cmd := exec.CommandContext(ctx, bin, all...)
	cmd.Env = os.Environ()
	cmd.Stderr = nil
	out, err := cmd.StdoutPipe()
	ts.Check(err)
	ts.Check(cmd.Start())
	ts.Defer(func() { cancel(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		ts.Fatalf("mesh serve printed no address: %v", err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok {
		ts.Fatalf("mesh serve said %q", line)
	}
	ts.Setenv("MESH", url)
}

// getcode HOME waits (up to 30s) until the device at HOME shows the code of
// its pending connection request and sets $CODE to it, as a user reads it
// off the new device's screen.
func cmdGetCode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: getcode HOME")
	}
	path := filepath.Join(ts.MkAbs(args[0]), "account.json")
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var a struct {
			Pending *struct{ Code string } `json:"pending"`
		}
		if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &a) == nil && a.Pending != nil {
			ts.Setenv("CODE", a.Pending.Code)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.Fatalf("no pending code in %s after 30s", path)
}

// need PROGRAM PACKAGE fails the script when a real peer is missing and
// ENDYMAIL_REQUIRE_INTEROP=1 forbids skipping. Scripts follow it with
// `[!exec:PROGRAM] skip 'install the Debian package PACKAGE'`.
func cmdNeed(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: need PROGRAM PACKAGE")
	}
	if _, err := exec.LookPath(args[0]); err != nil && interop.Required() {
		ts.Fatalf("%s not found: install the Debian package %q (ENDYMAIL_REQUIRE_INTEROP=1 forbids skipping)", args[0], args[1])
	}
}
