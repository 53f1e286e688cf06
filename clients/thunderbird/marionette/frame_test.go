package marionette

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// recordedFrames returns the frames in testdata/thunderbird-153.frames.
func recordedFrames(t testing.TB) [][]byte {
	t.Helper()
	b, err := os.ReadFile("testdata/thunderbird-153.frames")
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		frames = append(frames, []byte(line))
	}
	if len(frames) != 8 {
		t.Fatalf("testdata holds %d frames, want 8", len(frames))
	}
	return frames
}

func TestReadFrameRecorded(t *testing.T) {
	frames := recordedFrames(t)
	stream := bytes.Join(frames, nil)
	r := bufio.NewReader(bytes.NewReader(stream))
	for i, f := range frames {
		body, err := ReadFrame(r)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if got := AppendFrame(nil, body); !bytes.Equal(got, f) {
			t.Errorf("frame %d: re-encoded %.60q, want %.60q", i, got, f)
		}
	}
	if _, err := ReadFrame(r); err != io.EOF {
		t.Errorf("after the last frame: got %v, want io.EOF", err)
	}
}

func TestReadFrameErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"", io.EOF},
		{"12", io.ErrUnexpectedEOF},
		{":{}", ErrProtocol},
		{"x:{}", ErrProtocol},
		{"-2:{}", ErrProtocol},
		{"12345678901:{}", ErrProtocol},
		{"99999999:", ErrProtocol}, // above MaxFrame
		{"5:{}", io.ErrUnexpectedEOF},
	} {
		_, err := ReadFrame(bufio.NewReader(strings.NewReader(tc.in)))
		if !errors.Is(err, tc.want) {
			t.Errorf("ReadFrame(%q): got %v, want %v", tc.in, err, tc.want)
		}
	}
}

func TestParseReplyRecorded(t *testing.T) {
	frames := recordedFrames(t)
	for i, f := range frames[1:] {
		body := f[bytes.IndexByte(f, ':')+1:]
		rep, err := parseReply(body)
		if err != nil {
			t.Fatalf("reply %d: %v", i+1, err)
		}
		if rep.id != uint64(i+1) {
			t.Errorf("reply %d: id %d", i+1, rep.id)
		}
		switch i + 1 {
		case 5:
			if rep.err == nil || rep.err.Code != "javascript error" || rep.err.Message != "Error: boom" ||
				!strings.Contains(rep.err.Stacktrace, "System Principal") {
				t.Errorf("reply 5: got error %+v, want javascript error Error: boom with stack", rep.err)
			}
		case 6:
			if rep.err == nil || rep.err.Code != "script timeout" {
				t.Errorf("reply 6: got error %+v, want script timeout", rep.err)
			}
		case 4:
			v, err := unwrapValue(rep.result)
			if err != nil || string(v) != `[1,"two",{"three":3},null]` {
				t.Errorf("reply 4: got %s, %v", v, err)
			}
		default:
			if rep.err != nil {
				t.Errorf("reply %d: unexpected error %v", i+1, rep.err)
			}
		}
	}
}

func TestParseReplyErrors(t *testing.T) {
	for _, in := range []string{
		`{}`, `[1,2,null]`, `[0,1,null,{}]`, `[1,"x",null,{}]`, `[1,-1,null,{}]`,
		`[1,1,{"message":"no code"},null]`, `[1,1,"str",null]`, `not json`,
	} {
		if _, err := parseReply([]byte(in)); !errors.Is(err, ErrProtocol) {
			t.Errorf("parseReply(%s): got %v, want ErrProtocol", in, err)
		}
	}
}

func FuzzReadFrame(f *testing.F) {
	for _, fr := range recordedFrames(f) {
		f.Add(fr)
	}
	f.Add([]byte("0:"))
	f.Add([]byte("3:abc4:"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		var consumed int
		for {
			body, err := ReadFrame(r)
			if err != nil {
				return
			}
			enc := AppendFrame(nil, body)
			consumed += len(enc)
			if consumed > len(in) || len(body) > MaxFrame {
				t.Fatalf("read %d bytes of frames from %d bytes of input", consumed, len(in))
			}
			rep, err := parseReply(body)
			if err == nil && rep.err != nil && rep.err.Code == "" {
				t.Fatalf("error reply without a code accepted: %q", body)
			}
		}
	})
}
