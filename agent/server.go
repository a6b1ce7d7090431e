package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/knitter-cni/knitter/agent/wire"
)

// maxRequestBytes bounds a request body.
const maxRequestBytes = wire.MaxRequestBytes

// Server serves the plugin's calls on a unix socket. It bounds how many calls run at once; calls
// over the limit wait for a slot as long as their caller does.
type Server struct {
	a   *Agent
	sem chan struct{}
	log *slog.Logger
	mux *http.ServeMux
}

// NewServer returns a server for a that runs at most maxConcurrent calls at once (0 means 16).
func NewServer(a *Agent, maxConcurrent int) *Server {
	if maxConcurrent <= 0 {
		maxConcurrent = 16
	}
	s := &Server{a: a, sem: make(chan struct{}, maxConcurrent), log: a.log, mux: http.NewServeMux()}
	for _, v := range []string{wire.VerbAdd, wire.VerbDel, wire.VerbCheck, wire.VerbGC, wire.VerbStatus} {
		s.mux.HandleFunc("POST "+wire.Path+v, func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, v) })
	}
	return s
}

// HandleMetrics serves h (the Prometheus handler of the agent's registry) at GET /metrics on the
// agent's socket, which only root can open: `curl --unix-socket /run/knitter/agent.sock
// http://agent/metrics`.
func (s *Server) HandleMetrics(h http.Handler) { s.mux.Handle("GET /metrics", h) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Listen opens the unix socket at path, root-only: its directory is created 0700 if missing, a stale
// socket left by a crash is replaced, and the socket is 0600.
func Listen(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("socket directory: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		_ = c.Close()
		return nil, fmt.Errorf("%s is in use; is another knitter-agent running?", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("removing the stale socket: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("securing %s: %w", path, err)
	}
	return ln, nil
}

// Serve serves on ln until ctx ends, then waits for calls in progress (up to 30 s) and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// serve runs one call and logs it in one line.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, verb string) {
	start := time.Now()
	var req wire.Request
	dec := json.NewDecoder(io.LimitReader(r.Body, maxRequestBytes))
	if err := dec.Decode(&req); err != nil {
		s.answer(w, verb, req, nil, &wire.Error{Code: wire.CodeDecodingFailure, Msg: "the plugin's request cannot be decoded", Details: err.Error()}, start)
		return
	}
	select {
	case s.sem <- struct{}{}:
	case <-r.Context().Done():
		s.answer(w, verb, req, nil, &wire.Error{Code: wire.CodeTryAgainLater, Msg: "knitter-agent is busy; the call timed out waiting for a slot"}, start)
		return
	}
	defer func() { <-s.sem }()
	res, err := s.call(r.Context(), verb, req)
	s.answer(w, verb, req, res, err, start)
}

func (s *Server) call(ctx context.Context, verb string, req wire.Request) (*wire.Result, error) {
	switch verb {
	case wire.VerbAdd:
		res, err := s.a.Add(ctx, req)
		if err != nil {
			return nil, err
		}
		return &res, nil
	case wire.VerbDel:
		return nil, s.a.Del(ctx, req)
	case wire.VerbCheck:
		return nil, s.a.Check(ctx, req)
	case wire.VerbGC:
		return nil, s.a.GC(ctx, req)
	default:
		return nil, s.a.Status()
	}
}

func (s *Server) answer(w http.ResponseWriter, verb string, req wire.Request, res *wire.Result, err error, start time.Time) {
	attrs := []any{"cmd", verb, "container", req.ContainerID, "ifname", req.IfName, "pod", podLabel(req.Args),
		"duration_ms", float64(time.Since(start).Microseconds()) / 1000}
	if req.Network != "" {
		attrs = append(attrs, "network", req.Network)
	}
	if err != nil {
		we := ToWire(err)
		level := slog.LevelWarn
		if we.Code == wire.CodeInternal || we.Code == wire.CodeDataplane || we.Code == wire.CodeIOFailure {
			level = slog.LevelError
		}
		s.log.Log(context.Background(), level, "cni", append(attrs, "result", "error", "code", we.Code, "err", we.Error())...)
		write(w, statusOf(we.Code), we)
		return
	}
	if res != nil {
		attrs = append(attrs, "interfaces", len(res.Interfaces))
	}
	if verb == wire.VerbStatus {
		s.log.Debug("cni", append(attrs, "result", "ok")...) // runtimes poll STATUS every few seconds
	} else {
		s.log.Info("cni", append(attrs, "result", "ok")...)
	}
	resp := wire.Response{Result: res}
	if verb == wire.VerbStatus {
		resp.Datapaths = s.a.Datapaths()
	}
	write(w, http.StatusOK, resp)
}

// write answers v with a Content-Length, which the plugin's minimal HTTP reader relies on.
func write(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"code":999,"msg":"knitter-agent cannot encode its answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// statusOf picks an HTTP status for a CNI code; the plugin reads the code from the body, the status
// only says success or not (and helps someone reading the socket with curl).
func statusOf(code uint) int {
	switch code {
	case wire.CodeTryAgainLater, wire.CodePluginNotAvailable:
		return http.StatusServiceUnavailable
	case wire.CodeInternal, wire.CodeDataplane, wire.CodeIOFailure:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}
