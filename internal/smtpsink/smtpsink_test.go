package smtpsink

import (
	"context"
	"errors"
	"net/smtp"
	"strings"
	"testing"
	"time"
)

func TestReceivesMessages(t *testing.T) {
	s := Start(t)
	msg1 := "From: a@example.test\r\nTo: b@example.test\r\nSubject: one\r\n\r\nline\r\n.dot line\r\n"
	msg2 := "Subject: two\r\n\r\nbody two\r\n"
	if err := smtp.SendMail(s.Addr(), nil, "a@example.test", []string{"b@example.test", "c@example.test"}, []byte(msg1)); err != nil {
		t.Fatal(err)
	}
	go smtp.SendMail(s.Addr(), nil, "x@example.test", []string{"y@example.test"}, []byte(msg2))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := s.Wait(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	m := msgs[0]
	if m.From != "a@example.test" || strings.Join(m.To, ",") != "b@example.test,c@example.test" {
		t.Errorf("envelope: got %s -> %v", m.From, m.To)
	}
	if string(m.Data) != msg1 {
		t.Errorf("data: got %q, want %q", m.Data, msg1)
	}
	if msgs[1].From != "x@example.test" || string(msgs[1].Data) != msg2 {
		t.Errorf("second message: got %s %q", msgs[1].From, msgs[1].Data)
	}
	if got := len(s.Messages()); got != 2 {
		t.Errorf("Messages: got %d, want 2", got)
	}
	if s.Host() != "127.0.0.1" || s.Port() == 0 {
		t.Errorf("address: got %s port %d", s.Host(), s.Port())
	}
}

func TestWaitTimesOut(t *testing.T) {
	s := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := s.Wait(ctx, 1)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "0 of 1") {
		t.Fatalf("got %v, want a deadline error naming 0 of 1", err)
	}
}

func TestCloseRefusesConnections(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addr()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := smtp.SendMail(addr, nil, "a@example.test", []string{"b@example.test"}, []byte("x\r\n")); err == nil {
		t.Fatal("send after Close succeeded")
	}
}
