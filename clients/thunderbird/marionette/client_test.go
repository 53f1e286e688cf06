package marionette

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// fakeServer is an in-process Marionette server: it greets with hello and
// answers each command with handle's frames (raw reply bodies).
type fakeServer struct {
	ln       net.Listener
	commands chan []any // every command received, decoded
}

func startFake(t *testing.T, hello string, handle func(cmd []any) []string) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{ln: ln, commands: make(chan []any, 100)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.Write(AppendFrame(nil, []byte(hello)))
		r := bufio.NewReader(conn)
		for {
			body, err := ReadFrame(r)
			if err != nil {
				return
			}
			var cmd []any
			if err := json.Unmarshal(body, &cmd); err != nil {
				return
			}
			s.commands <- cmd
			for _, rep := range handle(cmd) {
				conn.Write(AppendFrame(nil, []byte(rep)))
			}
		}
	}()
	return s
}

const hello = `{"applicationType":"gecko","marionetteProtocol":3}`

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// replyTo builds a reply body for cmd with result.
func replyTo(cmd []any, errObj, result string) string {
	id, _ := json.Marshal(cmd[1])
	return "[1," + string(id) + "," + errObj + "," + result + "]"
}

func TestSessionAndScripts(t *testing.T) {
	s := startFake(t, hello, func(cmd []any) []string {
		switch cmd[2] {
		case "WebDriver:NewSession":
			return []string{replyTo(cmd, "null", `{"sessionId":"abc","capabilities":{}}`)}
		case "WebDriver:ExecuteScript":
			return []string{replyTo(cmd, "null", `{"value":{"answer":42}}`)}
		case "WebDriver:ExecuteAsyncScript":
			return []string{replyTo(cmd, `{"error":"javascript error","message":"Error: boom","stacktrace":"@x:1","data":{"text":"hi"}}`, "null")}
		}
		return []string{replyTo(cmd, "null", `{"value":null}`)}
	})
	ctx := ctxT(t)
	c, err := Dial(ctx, s.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if h := c.Hello(); h.ApplicationType != "gecko" || h.Protocol != 3 {
		t.Errorf("hello: got %+v", h)
	}
	if id, err := c.NewSession(ctx, map[string]any{"unhandledPromptBehavior": "dismiss and notify"}); err != nil || id != "abc" {
		t.Fatalf("NewSession: got %q, %v; want abc", id, err)
	}
	if err := c.SetContext(ctx, ContextChrome); err != nil {
		t.Fatal(err)
	}
	if err := c.SetScriptTimeout(ctx, 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	v, err := c.ExecuteScript(ctx, "return 42", []any{"a", 1})
	if err != nil || string(v) != `{"answer":42}` {
		t.Fatalf("ExecuteScript: got %s, %v", v, err)
	}
	_, err = c.ExecuteAsyncScript(ctx, "throw 1", nil)
	var merr *Error
	if !errors.As(err, &merr) || merr.Code != "javascript error" || merr.Message != "Error: boom" ||
		merr.Stacktrace != "@x:1" || string(merr.Data) != `{"text":"hi"}` || merr.Command != "WebDriver:ExecuteAsyncScript" {
		t.Fatalf("ExecuteAsyncScript: got %#v, want a javascript error", err)
	}

	want := []string{
		`[0,1,"WebDriver:NewSession",{"capabilities":{"alwaysMatch":{"unhandledPromptBehavior":"dismiss and notify"}}}]`,
		`[0,2,"Marionette:SetContext",{"value":"chrome"}]`,
		`[0,3,"WebDriver:SetTimeouts",{"script":1500}]`,
		`[0,4,"WebDriver:ExecuteScript",{"args":["a",1],"sandbox":"system","script":"return 42"}]`,
		`[0,5,"WebDriver:ExecuteAsyncScript",{"args":[],"sandbox":"system","script":"throw 1"}]`,
	}
	for i, w := range want {
		got, _ := json.Marshal(<-s.commands)
		if string(got) != w {
			t.Errorf("command %d: got %s, want %s", i, got, w)
		}
	}
}

func TestStaleReplySkipped(t *testing.T) {
	s := startFake(t, hello, func(cmd []any) []string {
		return []string{`[1,0,null,{"value":"stale"}]`, replyTo(cmd, "null", `{"value":"fresh"}`)}
	})
	ctx := ctxT(t)
	c, err := Dial(ctx, s.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v, err := c.ExecuteScript(ctx, "", nil); err != nil || string(v) != `"fresh"` {
		t.Fatalf("got %s, %v; want \"fresh\"", v, err)
	}
}

func TestDeadlineBreaksClient(t *testing.T) {
	s := startFake(t, hello, func(cmd []any) []string { return nil }) // never answers
	c, err := Dial(ctxT(t), s.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = c.ExecuteScript(ctx, "", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	if _, err := c.ExecuteScript(ctxT(t), "", nil); !errors.Is(err, ErrBroken) {
		t.Fatalf("after a timeout: got %v, want ErrBroken", err)
	}
}

func TestCancelInterruptsCall(t *testing.T) {
	s := startFake(t, hello, func(cmd []any) []string { return nil })
	c, err := Dial(ctxT(t), s.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := c.Quit(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestDialBadHello(t *testing.T) {
	for _, h := range []string{`{"applicationType":"gecko"}`, `[1,2]`, `nope`} {
		s := startFake(t, h, func(cmd []any) []string { return nil })
		_, err := Dial(ctxT(t), s.ln.Addr().String())
		if err == nil || !strings.Contains(err.Error(), "hello") {
			t.Errorf("hello %s: got %v, want a hello error", h, err)
		}
	}
}

func TestMismatchedReplyID(t *testing.T) {
	s := startFake(t, hello, func(cmd []any) []string { return []string{`[1,99,null,{}]`} })
	c, err := Dial(ctxT(t), s.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Call(ctxT(t), "X", nil); !errors.Is(err, ErrProtocol) {
		t.Fatalf("got %v, want ErrProtocol", err)
	}
}
