package smime

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime/quotedprintable"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// This file splits whole RFC 5322 messages into the outer header (From, To,
// Subject, Date, Message-ID ...), which stays outside the cryptography, and
// the inner MIME entity (the Content-* fields and the body), which is signed
// or encrypted; and joins them back.

// canonicalize turns every bare LF into CRLF, the canonical form of RFC 5322
// and RFC 8551 section 3.1.1 that signatures are computed over.
func canonicalize(b []byte) []byte {
	n := bytes.Count(b, []byte{'\n'}) - bytes.Count(b, []byte("\r\n"))
	if n == 0 {
		return b
	}
	out := make([]byte, 0, len(b)+n)
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

// readMessage canonicalizes msg and splits it into header and body.
func readMessage(msg []byte) (textproto.Header, []byte, error) {
	msg = canonicalize(msg)
	r := bufio.NewReader(bytes.NewReader(msg))
	h, err := textproto.ReadHeader(r)
	if err != nil {
		return h, nil, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	body, err := io.ReadAll(r)
	if err != nil {
		return h, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return h, body, nil
}

func isContentField(k string) bool {
	return strings.HasPrefix(strings.ToLower(k), "content-")
}

// splitHeader returns copies of h holding only the message fields (outer)
// and only the Content-* fields (inner), each in their original order and
// bytes.
func splitHeader(h textproto.Header) (outer, inner textproto.Header) {
	outer, inner = h.Copy(), h.Copy()
	for f := outer.Fields(); f.Next(); {
		if isContentField(f.Key()) {
			f.Del()
		}
	}
	for f := inner.Fields(); f.Next(); {
		if !isContentField(f.Key()) {
			f.Del()
		}
	}
	return outer, inner
}

// innerEntity splits msg into its outer header and the canonical bytes of the
// MIME entity to protect. A message without Content-Type gets the RFC 2045
// default made explicit; a single-part body that is not 7-bit safe is
// re-encoded as quoted-printable (RFC 8551 section 3.1.2), so the signature
// survives transport.
func innerEntity(msg []byte) (textproto.Header, []byte, error) {
	h, body, err := readMessage(msg)
	if err != nil {
		return h, nil, err
	}
	outer, inner := splitHeader(h)
	mh := message.Header{Header: inner}
	if !mh.Has("Content-Type") {
		charset := "us-ascii"
		if !isASCII(body) {
			charset = "utf-8"
		}
		mh.SetContentType("text/plain", map[string]string{"charset": charset})
	}
	t, _, err := mh.ContentType()
	if err != nil {
		return outer, nil, fmt.Errorf("%w: content-type: %w", ErrMalformed, err)
	}
	cte := strings.ToLower(strings.TrimSpace(mh.Get("Content-Transfer-Encoding")))
	plain := cte == "" || cte == "7bit" || cte == "8bit" || cte == "binary"
	if !strings.HasPrefix(t, "multipart/") && plain && !sevenBitSafe(body) {
		mh.Set("Content-Transfer-Encoding", "quoted-printable")
		var qp bytes.Buffer
		w := quotedprintable.NewWriter(&qp)
		if _, err := w.Write(body); err != nil {
			return outer, nil, err
		}
		if err := w.Close(); err != nil {
			return outer, nil, err
		}
		body = canonicalize(qp.Bytes())
	}
	var out bytes.Buffer
	if err := textproto.WriteHeader(&out, mh.Header); err != nil {
		return outer, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	out.Write(body)
	return outer, out.Bytes(), nil
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// sevenBitSafe reports whether b is 7-bit text with lines of at most 998
// octets and no NUL or bare CR.
func sevenBitSafe(b []byte) bool {
	for _, line := range bytes.Split(b, []byte("\r\n")) {
		if len(line) > 998 || bytes.IndexByte(line, '\r') >= 0 || bytes.IndexByte(line, 0) >= 0 {
			return false
		}
	}
	return isASCII(b)
}

// joinMessage writes the outer header followed by an entity (its own header
// fields, blank line and body), making one message.
func joinMessage(outer textproto.Header, entity []byte) ([]byte, error) {
	var b bytes.Buffer
	if err := textproto.WriteHeader(&b, outer); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	b.Truncate(b.Len() - 2) // the entity brings its own blank line
	b.Write(entity)
	return b.Bytes(), nil
}

// field is one header field to write.
type field struct{ key, value string }

// wrapEntity makes one message of the outer header, then the MIME fields
// (MIME-Version first when the outer header lacks it), then body.
func wrapEntity(outer textproto.Header, fields []field, body []byte) ([]byte, error) {
	var h textproto.Header
	// Add puts a field on top, so add in reverse to keep the given order.
	for i := len(fields) - 1; i >= 0; i-- {
		h.Add(fields[i].key, fields[i].value)
	}
	if !outer.Has("Mime-Version") {
		h.Add("MIME-Version", "1.0")
	}
	var b bytes.Buffer
	if err := textproto.WriteHeader(&b, h); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	b.Write(body)
	return joinMessage(outer, b.Bytes())
}

// writeWrapped writes der as base64 in CRLF-terminated lines of 76.
func writeWrapped(w *bytes.Buffer, der []byte) {
	s := base64.StdEncoding.EncodeToString(der)
	for len(s) > 76 {
		w.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	w.WriteString(s + "\r\n")
}

func randomBoundary() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "----smime-" + hex.EncodeToString(b), nil
}

// splitMultipart returns the raw bytes of each body part of a canonical
// multipart body (RFC 2046 section 5.1.1): the octets between the CRLF that
// ends a delimiter line and the CRLF that starts the next delimiter. The
// close delimiter must be present.
func splitMultipart(body []byte, boundary string) ([][]byte, error) {
	if boundary == "" || len(boundary) > 200 {
		return nil, fmt.Errorf("%w: bad multipart boundary", ErrMalformed)
	}
	b := append([]byte("\r\n"), body...)
	delim := []byte("\r\n--" + boundary)
	pos := nextDelimiter(b, 0, delim)
	var parts [][]byte
	for pos >= 0 {
		pos += len(delim)
		if bytes.HasPrefix(b[pos:], []byte("--")) {
			return parts, nil
		}
		eol := bytes.Index(b[pos:], []byte("\r\n"))
		if eol < 0 || strings.Trim(string(b[pos:pos+eol]), " \t") != "" {
			break
		}
		start := pos + eol + 2
		next := nextDelimiter(b, start, delim)
		if next < 0 {
			break
		}
		parts = append(parts, b[start:next])
		pos = next
	}
	return nil, fmt.Errorf("%w: multipart body without close delimiter", ErrMalformed)
}

// nextDelimiter finds the next delimiter at or after from: the boundary
// line followed by "--", transport padding or CRLF.
func nextDelimiter(b []byte, from int, delim []byte) int {
	for from <= len(b) {
		i := bytes.Index(b[from:], delim)
		if i < 0 {
			return -1
		}
		end := from + i + len(delim)
		if end == len(b) || bytes.IndexByte([]byte("-\r \t"), b[end]) >= 0 {
			return from + i
		}
		from = end
	}
	return -1
}

// decodeEntity reads a MIME entity (header and body) and returns its media
// type, parameters and transfer-decoded body.
func decodeEntity(h textproto.Header, body []byte) (string, map[string]string, []byte, error) {
	e, err := message.New(message.Header{Header: h}, bytes.NewReader(body))
	if err != nil {
		return "", nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	t, params, err := e.Header.ContentType()
	if err != nil {
		return "", nil, nil, fmt.Errorf("%w: content-type: %w", ErrMalformed, err)
	}
	data, err := io.ReadAll(e.Body)
	if err != nil {
		return "", nil, nil, fmt.Errorf("%w: %s body: %w", ErrMalformed, t, err)
	}
	return t, params, data, nil
}

// isPKCS7Mime reports whether t is an application/pkcs7-mime type (or its
// pre-RFC 3851 x- form).
func isPKCS7Mime(t string) bool {
	return t == "application/pkcs7-mime" || t == "application/x-pkcs7-mime"
}

// isPKCS7Signature is isPKCS7Mime for detached signature parts.
func isPKCS7Signature(t string) bool {
	return t == "application/pkcs7-signature" || t == "application/x-pkcs7-signature"
}
