package openpgp

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// maxMessage bounds every message and decrypted content this package reads.
const maxMessage = 256 << 20

// canonical returns msg with every line ending as CRLF (RFC 3156 signs and
// verifies the CRLF form).
func canonical(msg []byte) []byte {
	if !bytes.Contains(msg, []byte("\n")) {
		return msg
	}
	var b bytes.Buffer
	b.Grow(len(msg) + len(msg)/32)
	for len(msg) > 0 {
		i := bytes.IndexByte(msg, '\n')
		if i < 0 {
			b.Write(msg)
			break
		}
		line := bytes.TrimSuffix(msg[:i], []byte("\r"))
		b.Write(line)
		b.WriteString("\r\n")
		msg = msg[i+1:]
	}
	return b.Bytes()
}

// entity is a MIME entity split into its header and raw body.
type entity struct {
	header textproto.Header
	body   []byte
}

// parseEntity reads a canonical (CRLF) message or body part.
func parseEntity(data []byte) (*entity, error) {
	src := bytes.NewReader(data)
	r := bufio.NewReader(src)
	h, err := textproto.ReadHeader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	n := len(data) - src.Len() - r.Buffered()
	return &entity{header: h, body: data[n:]}, nil
}

// isContentField reports whether a header field belongs to the MIME body
// (Content-*) rather than to the message envelope.
func isContentField(key string) bool {
	return strings.HasPrefix(strings.ToLower(key), "content-")
}

// splitHeader separates the envelope fields (From, To, Subject, Date,
// Message-ID, MIME-Version, ...) from the Content-* fields, keeping order.
func splitHeader(h textproto.Header) (outer, inner [][]byte) {
	for f := h.Fields(); f.Next(); {
		raw, err := f.Raw()
		if err != nil {
			raw = []byte(f.Key() + ": " + f.Value() + "\r\n")
		}
		if isContentField(f.Key()) {
			inner = append(inner, raw)
		} else {
			outer = append(outer, raw)
		}
	}
	return outer, inner
}

// innerPart builds the MIME entity that gets signed or encrypted: the
// Content-* fields of msg and its body. With sevenBit, a leaf body that
// mail transport might alter (8-bit data, trailing whitespace, lines
// starting with "From ") is re-encoded as quoted-printable (RFC 3156 §3),
// so the signature survives.
func innerPart(e *entity, sevenBit bool) ([]byte, error) {
	_, fields := splitHeader(e.header)
	body := e.body
	mediaType := "text/plain"
	if ct := e.header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil {
			return nil, fmt.Errorf("%w: content type %q: %v", ErrMalformed, ct, err)
		}
		mediaType = mt
	} else {
		fields = append(fields, []byte("Content-Type: text/plain; charset=utf-8\r\n"))
	}
	leaf := !strings.HasPrefix(mediaType, "multipart/") && !strings.HasPrefix(mediaType, "message/")
	cte := strings.ToLower(strings.TrimSpace(e.header.Get("Content-Transfer-Encoding")))
	if sevenBit && leaf && (cte == "" || cte == "7bit" || cte == "8bit" || cte == "binary") && !transportSafe(body) {
		qp, err := quotedPrintable(body)
		if err != nil {
			return nil, err
		}
		kept := fields[:0]
		for _, f := range fields {
			if !bytes.HasPrefix(bytes.ToLower(f), []byte("content-transfer-encoding:")) {
				kept = append(kept, f)
			}
		}
		fields = append(kept, []byte("Content-Transfer-Encoding: quoted-printable\r\n"))
		body = qp
	}
	var b bytes.Buffer
	for _, f := range fields {
		b.Write(f)
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes(), nil
}

// transportSafe reports whether body is 7-bit data with lines of at most
// 998 octets, no trailing whitespace and no line starting with "From ".
func transportSafe(body []byte) bool {
	for line := range bytes.Lines(body) {
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if len(line) > 998 || bytes.HasPrefix(line, []byte("From ")) ||
			bytes.HasSuffix(line, []byte(" ")) || bytes.HasSuffix(line, []byte("\t")) {
			return false
		}
		for _, c := range line {
			if c >= 0x80 || c == 0 || c == '\r' {
				return false
			}
		}
	}
	return true
}

func quotedPrintable(body []byte) ([]byte, error) {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	// Text keeps its line breaks as CRLF; the writer encodes the rest.
	w.Binary = false
	if _, err := w.Write(body); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	out := canonical(b.Bytes())
	// "From " at a line start becomes ">From " in mbox transports.
	if bytes.HasPrefix(out, []byte("From ")) {
		out = append([]byte("=46"), out[1:]...)
	}
	return bytes.ReplaceAll(out, []byte("\r\nFrom "), []byte("\r\n=46rom ")), nil
}

// newBoundary returns a random multipart boundary not found in any of parts.
func newBoundary(parts ...[]byte) string {
	for {
		var r [15]byte
		if _, err := rand.Read(r[:]); err != nil {
			panic("openpgp: crypto/rand failed: " + err.Error())
		}
		b := "----endymail-" + hex.EncodeToString(r[:])
		clash := false
		for _, p := range parts {
			clash = clash || bytes.Contains(p, []byte(b))
		}
		if !clash {
			return b
		}
	}
}

// writeMultipart assembles a message: the envelope fields, MIME-Version, a
// multipart Content-Type with params and boundary, then the raw parts.
func writeMultipart(outer [][]byte, mediaType string, params map[string]string, parts ...[]byte) []byte {
	boundary := newBoundary(parts...)
	params["boundary"] = boundary
	var b bytes.Buffer
	for _, f := range outer {
		if !bytes.HasPrefix(bytes.ToLower(f), []byte("mime-version:")) {
			b.Write(f)
		}
	}
	b.WriteString("MIME-Version: 1.0\r\n")
	var ct textproto.Header
	ct.Add("Content-Type", mime.FormatMediaType(mediaType, params))
	_ = textproto.WriteHeader(&b, ct) // writes the field and the blank line; cannot fail for these values
	b.WriteString("This is an OpenPGP/MIME message (RFC 4880 and 3156)\r\n")
	for _, p := range parts {
		b.WriteString("--" + boundary + "\r\n")
		b.Write(p)
		b.WriteString("\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes()
}

// splitMultipart returns the raw body parts of a multipart body, each
// without the CRLF that belongs to the following delimiter (RFC 2046 §5.1.1).
// A body without its closing delimiter is malformed (truncated).
func splitMultipart(body []byte, boundary string) ([][]byte, error) {
	delim := []byte("--" + boundary)
	var (
		parts [][]byte
		start = -1
	)
	for pos := 0; pos <= len(body); {
		end := bytes.Index(body[pos:], []byte("\r\n"))
		lineEnd := len(body)
		if end >= 0 {
			lineEnd = pos + end
		}
		line := body[pos:lineEnd]
		next := lineEnd + 2
		if bytes.HasPrefix(line, delim) {
			rest := bytes.TrimRight(line[len(delim):], " \t")
			closing := bytes.Equal(rest, []byte("--"))
			if len(rest) == 0 || closing {
				if start >= 0 {
					parts = append(parts, body[start:max(start, pos-2)])
				}
				if closing {
					return parts, nil
				}
				start = next
			}
		}
		if end < 0 {
			break
		}
		pos = next
	}
	return nil, fmt.Errorf("%w: multipart body has no closing boundary %q (truncated?)", ErrMalformed, boundary)
}

// multipartOf parses msg and checks it is of mediaType with the given
// protocol parameter (else the error wraps notIt), returning the envelope
// fields and the two raw parts.
func multipartOf(msg []byte, mediaType, protocol string, notIt error) (outer, parts [][]byte, err error) {
	e, err := parseEntity(canonical(msg))
	if err != nil {
		return nil, nil, err
	}
	ct := e.header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil && ct != "" {
		return nil, nil, fmt.Errorf("%w: content type %q: %v", ErrMalformed, ct, err)
	}
	if mt != mediaType || !strings.EqualFold(params["protocol"], protocol) {
		return nil, nil, fmt.Errorf("%w: content type %q, want %s with protocol %q", notIt, ct, mediaType, protocol)
	}
	if params["boundary"] == "" {
		return nil, nil, fmt.Errorf("%w: %s without boundary", ErrMalformed, mediaType)
	}
	parts, err = splitMultipart(e.body, params["boundary"])
	if err != nil {
		return nil, nil, err
	}
	if len(parts) != 2 {
		return nil, nil, fmt.Errorf("%w: %s has %d parts, want 2", ErrMalformed, mediaType, len(parts))
	}
	outer, _ = splitHeader(e.header)
	return outer, parts, nil
}

// joinMessage rebuilds a whole message from the envelope fields and an
// inner entity. A field the inner part repeats (protected headers, such as
// a real Subject) replaces the envelope's.
func joinMessage(outer [][]byte, inner []byte) ([]byte, error) {
	in, err := parseEntity(inner)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for _, f := range outer {
		key, _, _ := strings.Cut(string(f), ":")
		if in.header.Has(strings.TrimSpace(key)) {
			continue
		}
		b.Write(f)
	}
	b.Write(inner)
	return b.Bytes(), nil
}

// partBody decodes the body of a raw part (transfer encoding) and checks
// its media type.
func partBody(part []byte, mediaType string) ([]byte, error) {
	e, err := parseEntity(part)
	if err != nil {
		return nil, err
	}
	ct := e.header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != mediaType {
		return nil, fmt.Errorf("%w: part content type %q, want %s", ErrMalformed, ct, mediaType)
	}
	switch cte := strings.ToLower(strings.TrimSpace(e.header.Get("Content-Transfer-Encoding"))); cte {
	case "", "7bit", "8bit", "binary":
		return e.body, nil
	case "base64", "quoted-printable":
		return decodeTransfer(cte, e.body)
	default:
		return nil, fmt.Errorf("%w: transfer encoding %q", ErrUnsupported, cte)
	}
}

// decodeTransfer undoes a base64 or quoted-printable transfer encoding.
func decodeTransfer(cte string, body []byte) ([]byte, error) {
	var h message.Header
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Transfer-Encoding", cte)
	e, err := message.New(h, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	data, err := readAllLimited(e.Body, maxMessage)
	if err != nil {
		return nil, fmt.Errorf("%w: %s body: %v", ErrMalformed, cte, err)
	}
	return data, nil
}
