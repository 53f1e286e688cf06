package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/agent/daemon"
)

// Backend carries out the API's requests. Its errors are sent to the
// client with a code when they wrap one of the sentinels in [Error].
type Backend interface {
	Status(ctx context.Context) (*Status, error)
	Pending(ctx context.Context) ([]agent.PendingRequest, error)
	Approve(ctx context.Context, opt agent.ApproveOptions) (*agent.PendingRequest, error)
	Deny(ctx context.Context, id string) error
	Configure(ctx context.Context) (map[string][]agent.ClientResult, error)
}

// maxBody caps a request body.
const maxBody = 64 << 10

// Handler serves the API for b.
func Handler(b Backend) http.Handler {
	mux := http.NewServeMux()
	p := "/" + Version + "/"
	mux.HandleFunc("GET "+p+"status", func(w http.ResponseWriter, r *http.Request) {
		st, err := b.Status(r.Context())
		reply(w, st, err)
	})
	mux.HandleFunc("GET "+p+"pending", func(w http.ResponseWriter, r *http.Request) {
		reqs, err := b.Pending(r.Context())
		if reqs == nil {
			reqs = []agent.PendingRequest{}
		}
		reply(w, reqs, err)
	})
	mux.HandleFunc("POST "+p+"approve", func(w http.ResponseWriter, r *http.Request) {
		var in ApproveRequest
		if !decode(w, r, &in) {
			return
		}
		pr, err := b.Approve(r.Context(), agent.ApproveOptions{Code: in.Code, ID: in.ID, Admin: in.Admin})
		reply(w, pr, err)
	})
	mux.HandleFunc("POST "+p+"deny", func(w http.ResponseWriter, r *http.Request) {
		var in DenyRequest
		if !decode(w, r, &in) {
			return
		}
		reply(w, struct{}{}, b.Deny(r.Context(), in.ID))
	})
	mux.HandleFunc("POST "+p+"configure", func(w http.ResponseWriter, r *http.Request) {
		all, err := b.Configure(r.Context())
		out := map[string][]ClientResult{}
		for addr, rs := range all {
			for _, cr := range rs {
				out[addr] = append(out[addr], ClientResult{Client: cr.Client, Report: cr.Report, Error: toWire(cr.Err)})
			}
		}
		reply(w, out, err)
	})
	return mux
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err == nil && len(data) > maxBody {
		err = errors.New("request body too large")
	}
	if err == nil {
		err = json.Unmarshal(data, v)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, &Error{Code: "bad_request", Message: "bad request: " + err.Error()})
		return false
	}
	return true
}

func reply(w http.ResponseWriter, v any, err error) {
	if err == nil {
		writeJSON(w, http.StatusOK, v)
		return
	}
	we := toWire(err)
	status := http.StatusInternalServerError
	switch we.Code {
	case "no_match", "not_enabled":
		status = http.StatusNotFound
	case "not_admin":
		status = http.StatusForbidden
	}
	writeJSON(w, status, we)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Serve answers the API on ln until ctx ends.
func Serve(ctx context.Context, ln net.Listener, b Backend) error {
	srv := &http.Server{Handler: Handler(b), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// daemonBackend serves the API from a running daemon and its agent.
type daemonBackend struct {
	d *daemon.Daemon
	a *agent.Agent
}

var _ Backend = daemonBackend{}

// FromDaemon is the Backend of a running agent: reads go to the agent,
// approvals and denials wake the daemon's loop, and configure runs a
// reconcile pass of the daemon.
func FromDaemon(d *daemon.Daemon, a *agent.Agent) Backend { return daemonBackend{d, a} }

func (b daemonBackend) Status(ctx context.Context) (*Status, error) {
	st, err := b.a.Status(ctx)
	if err != nil {
		return nil, err
	}
	return &Status{Agent: st, Daemon: b.d.State()}, nil
}

func (b daemonBackend) Pending(ctx context.Context) ([]agent.PendingRequest, error) {
	return b.a.Pending(ctx)
}

func (b daemonBackend) Approve(ctx context.Context, opt agent.ApproveOptions) (*agent.PendingRequest, error) {
	pr, err := b.a.Approve(ctx, opt)
	if err == nil {
		b.d.Kick("approved " + pr.Name)
	}
	return pr, err
}

func (b daemonBackend) Deny(ctx context.Context, id string) error {
	err := b.a.Deny(ctx, id)
	if err == nil {
		b.d.Kick("denied a request")
	}
	return err
}

func (b daemonBackend) Configure(ctx context.Context) (map[string][]agent.ClientResult, error) {
	all, err := b.d.Reconcile(ctx, "asked by the CLI")
	if all != nil {
		return all, nil // per-client errors travel in the results
	}
	return nil, err
}
