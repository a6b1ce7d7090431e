package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// recorder remembers what a handler answered, for the metrics and the log.
type recorder struct {
	http.ResponseWriter
	status int
	actor  string
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (the proxy flushes through it).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// setActor records who the caller is for the request's log line.
func setActor(w http.ResponseWriter, a alloc.Actor) {
	if rec, ok := w.(*recorder); ok {
		rec.actor = actorName(a)
	}
}

func actorName(a alloc.Actor) string {
	switch {
	case a.Admin:
		return "admin"
	case a.System:
		return "system"
	}
	return "tenant:" + a.Tenant
}

// instrument counts and times every request by route and status, logs it, and turns a panic into a
// 500 so that one bad request cannot take the manager down.
func (s *Server) instrument(route string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic serving request", "route", route, "panic", fmt.Sprint(p))
				if rec.status == 0 {
					s.writeError(rec, fmt.Errorf("panic: %v", p))
				}
			}
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			took := time.Since(start)
			s.metrics.observe(route, rec.status, took)
			level := slog.LevelDebug
			switch {
			case rec.status >= 500:
				level = slog.LevelError
			case rec.status >= 400:
				level = slog.LevelInfo
			}
			s.log.Log(r.Context(), level, "http request", "method", r.Method, "path", r.URL.Path,
				"route", route, "status", rec.status, "actor", rec.actor, "took", took)
		}()
		next.ServeHTTP(rec, r)
	})
}

// forwardedHeader marks a request a standby proxied, so that a stale leader address can never make
// two managers forward a request back and forth.
const forwardedHeader = "X-Knitter-Forwarded"

// leaderOnly lets the leader run next; any other manager proxies the request to the leader (when
// Options.Proxy is set and the leader is known) or answers 503.
func (s *Server) leaderOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := s.b.Status()
		if st.Leader {
			next.ServeHTTP(w, r)
			return
		}
		if s.opts.Proxy && st.LeaderURL != "" && r.Header.Get(forwardedHeader) == "" {
			p, err := s.proxyTo(st.LeaderURL)
			if err == nil {
				p.ServeHTTP(w, r)
				return
			}
			s.log.Error("cannot proxy to the leader", "leader", st.LeaderURL, "err", err)
		}
		s.writeError(w, notLeader(st))
	})
}

// notLeader is the 503 of a manager that does not serve requests now.
func notLeader(st Status) error {
	why := st.Reason
	if why == "" {
		why = "this manager is not the leader"
	}
	if st.LeaderURL != "" {
		return model.Errorf(model.CodeUnavailable, "", "%s; the leader is %s, retry there or shortly", why, st.LeaderURL)
	}
	return model.Errorf(model.CodeUnavailable, "", "%s and no leader is known; retry shortly", why)
}

func errUnauthenticated(fix string) error {
	return model.Errorf(model.CodeUnauthenticated, "", "missing or invalid bearer token; %s", fix)
}

// unmatched answers paths no route serves: 405 when the path exists with another method, else 404.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.writeError(w, model.Errorf(CodeMethodNotAllowed, "", "%s is not served on %s; use %s", r.Method, r.URL.Path, strings.Join(allow, ", ")))
		return
	}
	s.writeError(w, model.Errorf(model.CodeNotFound, "", "no API route %s; see docs/api.md (routes start with /api/v1)", strconv.Quote(r.URL.Path)))
}
