package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/endymail/endymail/mesh/proto"
)

// A hostile or broken service gets a clear error from every call, never a
// panic or a half-decoded answer.
func TestHostileAnswers(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		body    string
		want    error
		wantMsg string
	}{
		{"json error", 409, `{"error":{"code":"conflict","message":"taken"}}`, proto.ErrConflict, "taken"},
		{"unknown code", 400, `{"error":{"code":"weird","message":"x"}}`, proto.ErrServer, ""},
		{"not json error", 502, `<html>bad gateway</html>`, proto.ErrServer, "HTTP 502"},
		{"malformed answer", 200, `{"account": 12`, nil, "malformed answer"},
		{"oversize answer", 200, `{"account":"` + strings.Repeat("A", maxResponse) + `"}`, nil, "exceeds"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(c.status)
				w.Write([]byte(c.body))
			}))
			defer ts.Close()
			cl, err := New(ts.URL)
			if err != nil {
				t.Fatal(err)
			}
			_, err = cl.FindAccount(context.Background(), "a@example.com")
			if err == nil {
				t.Fatal("no error")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("got %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.wantMsg) {
				t.Errorf("error %q does not say %q", err, c.wantMsg)
			}
		})
	}
}

func TestPoWDifficultyCapped(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"token":"t","bits":60,"expires":"2030-01-01T00:00:00Z"}`))
	}))
	defer ts.Close()
	cl, _ := New(ts.URL)
	_, err := cl.CreateAccount(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "refusing more than 40") {
		t.Errorf("a service asking for 60 bits of work: got %v", err)
	}
}

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "http://", "://x", "mesh.example.com"} {
		if _, err := New(u); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
}
