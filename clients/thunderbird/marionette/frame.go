package marionette

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// MaxFrame is the largest frame body [ReadFrame] accepts. Marionette replies
// carry script results; 64 MiB is far above anything a test returns.
const MaxFrame = 64 << 20

// maxLenDigits bounds the length prefix so a stream of digits cannot make
// ReadFrame read forever.
const maxLenDigits = 10

// ErrProtocol reports bytes that do not follow the Marionette framing or
// message shape.
var ErrProtocol = errors.New("marionette protocol violation")

// ReadFrame reads one `LEN:JSON` frame from r and returns the JSON body.
// LEN is the decimal byte length of the body.
func ReadFrame(r *bufio.Reader) ([]byte, error) {
	var n int
	digits := 0
	for {
		b, err := r.ReadByte()
		if err != nil {
			if digits > 0 && errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if b == ':' {
			break
		}
		if b < '0' || b > '9' {
			return nil, fmt.Errorf("%w: length prefix has byte %q", ErrProtocol, b)
		}
		if digits++; digits > maxLenDigits {
			return nil, fmt.Errorf("%w: length prefix longer than %d digits", ErrProtocol, maxLenDigits)
		}
		n = n*10 + int(b-'0')
	}
	if digits == 0 {
		return nil, fmt.Errorf("%w: empty length prefix", ErrProtocol)
	}
	if n > MaxFrame {
		return nil, fmt.Errorf("%w: frame of %d bytes exceeds %d", ErrProtocol, n, MaxFrame)
	}
	// Grow as bytes arrive rather than trusting the prefix with a large
	// allocation up front.
	var body bytes.Buffer
	body.Grow(min(n, 64<<10))
	if _, err := io.CopyN(&body, r, int64(n)); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("reading %d-byte frame: %w", n, err)
	}
	return body.Bytes(), nil
}

// AppendFrame appends the framed form of body (`LEN:body`) to dst.
func AppendFrame(dst, body []byte) []byte {
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, ':')
	return append(dst, body...)
}

// reply is a decoded `[1, id, error, result]` message.
type reply struct {
	id     uint64
	err    *Error // nil when the command succeeded
	result json.RawMessage
}

// parseReply decodes a reply message body.
func parseReply(body []byte) (reply, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(body, &parts); err != nil {
		return reply{}, fmt.Errorf("%w: message is not a JSON array: %v", ErrProtocol, err)
	}
	if len(parts) != 4 {
		return reply{}, fmt.Errorf("%w: message has %d elements, want 4", ErrProtocol, len(parts))
	}
	var typ int
	if err := json.Unmarshal(parts[0], &typ); err != nil || typ != 1 {
		return reply{}, fmt.Errorf("%w: message type %s, want 1 (reply)", ErrProtocol, parts[0])
	}
	var rep reply
	if err := json.Unmarshal(parts[1], &rep.id); err != nil {
		return reply{}, fmt.Errorf("%w: message id %s: %v", ErrProtocol, parts[1], err)
	}
	if !isNull(parts[2]) {
		rep.err = new(Error)
		if err := json.Unmarshal(parts[2], rep.err); err != nil {
			return reply{}, fmt.Errorf("%w: error object %s: %v", ErrProtocol, parts[2], err)
		}
		if rep.err.Code == "" {
			return reply{}, fmt.Errorf("%w: error object without \"error\" field", ErrProtocol)
		}
	}
	rep.result = parts[3]
	return rep, nil
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}
