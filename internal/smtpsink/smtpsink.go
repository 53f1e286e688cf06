// Package smtpsink is an in-process SMTP server for tests: it listens on
// 127.0.0.1 on a free port, accepts every message without authentication
// or TLS, and records each one (envelope and raw bytes).
//
// Use [Start] in a test (closed when the test ends), point the client
// under test at [Sink.Host] and [Sink.Port], then [Sink.Wait] for the
// messages. The SMTP protocol is github.com/emersion/go-smtp's.
package smtpsink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// MaxMessageBytes is the largest message the sink accepts.
const MaxMessageBytes = 32 << 20

// Message is one message the sink received.
type Message struct {
	From     string   // MAIL FROM address
	To       []string // RCPT TO addresses
	Data     []byte   // the message as sent after DATA, CRLF line ends
	Received time.Time
}

// Sink is a running SMTP server that records messages.
type Sink struct {
	srv *smtp.Server
	ln  net.Listener

	mu      sync.Mutex
	msgs    []Message
	changed chan struct{} // closed and replaced when a message arrives
	served  chan error
}

// New starts a sink on 127.0.0.1 with a free port.
func New() (*Sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("smtpsink listen: %w", err)
	}
	s := &Sink{ln: ln, changed: make(chan struct{}), served: make(chan error, 1)}
	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain = "smtpsink.test"
	s.srv.MaxMessageBytes = MaxMessageBytes
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

// Start is [New] for a test: it fails t on error and closes the sink when
// the test ends.
func Start(t testing.TB) *Sink {
	t.Helper()
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("smtpsink close: %v", err)
		}
	})
	return s
}

// Addr returns the listening address, host:port.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Host returns the listening IP address.
func (s *Sink) Host() string { return s.ln.Addr().(*net.TCPAddr).IP.String() }

// Port returns the listening port.
func (s *Sink) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Messages returns the messages received so far, oldest first.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait returns the first n messages once that many have arrived, or an
// error naming how many did when ctx ends first.
func (s *Sink) Wait(ctx context.Context, n int) ([]Message, error) {
	for {
		s.mu.Lock()
		if len(s.msgs) >= n {
			msgs := append([]Message(nil), s.msgs[:n]...)
			s.mu.Unlock()
			return msgs, nil
		}
		got, changed := len(s.msgs), s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("smtpsink: %d of %d messages arrived: %w", got, n, ctx.Err())
		}
	}
}

// Close stops the server and closes open connections.
func (s *Sink) Close() error {
	err := s.srv.Close()
	// The server closes only listeners its Serve has registered; if Close
	// wins the race with the Serve goroutine, Serve would block in Accept.
	if lerr := s.ln.Close(); lerr != nil && !errors.Is(lerr, net.ErrClosed) && err == nil {
		err = lerr
	}
	if serr := <-s.served; serr != nil && !errors.Is(serr, smtp.ErrServerClosed) {
		return serr
	}
	return err
}

func (s *Sink) record(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	close(s.changed)
	s.changed = make(chan struct{})
}

type backend struct{ sink *Sink }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &session{sink: b.sink}, nil
}

// session collects one SMTP transaction at a time.
type session struct {
	sink *Sink
	from string
	to   []string
}

var _ smtp.Session = (*session)(nil)

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		return err
	}
	s.sink.record(Message{From: s.from, To: s.to, Data: buf.Bytes(), Received: time.Now()})
	s.Reset()
	return nil
}

func (s *session) Reset() {
	s.from, s.to = "", nil
}

func (s *session) Logout() error { return nil }
