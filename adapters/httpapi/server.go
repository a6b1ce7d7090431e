package httpapi

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/prometheus/client_golang/prometheus"
)

// Server is the REST API over a Backend. It is an http.Handler; NewServer returns it as one.
type Server struct {
	b          Backend
	opts       Options
	log        *slog.Logger
	mux        *http.ServeMux
	metrics    *metrics
	retryAfter int // seconds
	inflight   *inflight

	proxyMu sync.Mutex
	proxies map[string]http.Handler // by leader URL
}

// NewServer returns the API handler: /api/v1 and the Knitter-compatible /nw/v1 routes, /healthz,
// /readyz and /metrics.
func NewServer(b Backend, opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	s := &Server{
		b: b, opts: opts, log: opts.Logger, mux: http.NewServeMux(),
		metrics:    newMetrics(opts.Registry),
		retryAfter: max(1, int(math.Ceil(opts.RetryAfter.Seconds()))),
		proxies:    map[string]http.Handler{},
		inflight:   newInflight(opts.MaxInFlightPerClient),
	}
	s.routes()
	s.compatRoutes()
	s.mux.Handle("/", s.instrument("unmatched", http.HandlerFunc(s.unmatched)))
	return s
}

// ServeHTTP implements http.Handler. Requests the mux would answer itself — CONNECT, and paths it
// would redirect to their clean form ("//api/v1/...", ".../ta/../tb") with an HTML body — are refused
// here in the API's error shape instead: a path that names another object once cleaned must never
// be followed.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := checkRequestLine(r); err != nil {
		s.instrument("unmatched", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if model.CodeOf(err) == CodeMethodNotAllowed {
				w.Header().Set("Allow", "GET, POST, PUT, DELETE")
			}
			s.writeError(w, err)
		})).ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) routes() {
	const v1 = "/api/v1"
	s.api("GET "+v1+"/tenants", s.listTenants, pageParams...)
	s.api("POST "+v1+"/tenants", s.createTenant)
	s.api("GET "+v1+"/tenants/{tenant}", s.getTenant)
	s.api("PUT "+v1+"/tenants/{tenant}", s.updateTenant)
	s.api("DELETE "+v1+"/tenants/{tenant}", s.deleteTenant)

	s.api("GET "+v1+"/networks", s.listAllNetworks, pageParams...)
	s.api("GET "+v1+"/tenants/{tenant}/networks", s.listNetworks, pageParams...)
	s.api("POST "+v1+"/tenants/{tenant}/networks", s.createNetwork)
	s.api("GET "+v1+"/tenants/{tenant}/networks/{name}", s.getNetwork)
	s.api("DELETE "+v1+"/tenants/{tenant}/networks/{name}", s.deleteNetwork)

	s.api("GET "+v1+"/tenants/{tenant}/ipgroups", s.listIPGroups, append(pageParams, "network")...)
	s.api("POST "+v1+"/tenants/{tenant}/ipgroups", s.createIPGroup)
	s.api("GET "+v1+"/tenants/{tenant}/ipgroups/{name}", s.getIPGroup)
	s.api("PUT "+v1+"/tenants/{tenant}/ipgroups/{name}", s.updateIPGroup)
	s.api("DELETE "+v1+"/tenants/{tenant}/ipgroups/{name}", s.deleteIPGroup)

	s.api("POST "+v1+"/pods", s.allocatePod)
	s.api("GET "+v1+"/pods/{uid}", s.getPod)
	s.api("POST "+v1+"/pods/{uid}/bind", s.bindPod, "include")
	s.api("DELETE "+v1+"/pods/{uid}", s.releasePod)

	s.api("GET "+v1+"/ports", s.listPorts, append(pageParams, "tenant", "network", "node", "pod")...)

	s.api("GET "+v1+"/nodes", s.listNodes, slices.Concat(pageParams, nodeWatchParams)...)
	s.api("GET "+v1+"/nodes/{name}", s.getNode)
	s.api("GET "+v1+"/nodes/{name}/applied", s.peersApplied, "wait")
	s.api("PUT "+v1+"/nodes/{name}", s.registerNode)
	s.api("DELETE "+v1+"/nodes/{name}", s.deleteNode)

	s.api("GET "+v1+"/tokens", s.listTokens, pageParams...)
	s.api("POST "+v1+"/tokens", s.createToken)
	s.api("GET "+v1+"/tokens/{id}", s.getToken)
	s.api("DELETE "+v1+"/tokens/{id}", s.deleteToken)

	s.open("GET /healthz", s.healthz)
	s.open("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", s.instrument("GET /metrics", s.authenticated(s.serveMetrics)))
}

// call is one authenticated API request.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	actor alloc.Actor
}

func (c *call) ctx() context.Context { return c.r.Context() }

// as is the command actor of the caller.
func (c *call) as() alloc.As { return alloc.AsActor(c.actor) }

// decode reads the body as JSON into v; see decodeJSON.
func (c *call) decode(v any) error {
	b, err := readBody(c.w, c.r)
	if err != nil {
		return err
	}
	return decodeJSON(b, v)
}

// endpoint handles one route: it returns the status and the answer, or an error. Status 0 with no
// error means the endpoint has written its answer itself.
type endpoint func(c *call) (int, any, error)

// api registers an authenticated route that only the leader serves. query names the query
// parameters the route takes; any other is refused with 400 before the endpoint runs, so that a
// typo in a filter cannot widen a list nor a flag such as ?force=true pass unnoticed.
func (s *Server) api(pattern string, ep endpoint, query ...string) {
	checked := func(c *call) (int, any, error) {
		if err := checkQuery(c.r, query...); err != nil {
			return 0, nil, err
		}
		return ep(c)
	}
	s.mux.Handle(pattern, s.instrument(pattern, s.leaderOnly(s.authenticated(checked))))
}

// open registers a route without authentication that every manager answers itself.
func (s *Server) open(pattern string, ep endpoint) {
	s.mux.Handle(pattern, s.instrument(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, &call{w: w, r: r}, ep)
	})))
}

// serve runs an endpoint and writes its answer.
func (s *Server) serve(w http.ResponseWriter, c *call, ep endpoint) {
	status, body, err := ep(c)
	if err != nil {
		if errorBody(err).Code == CodeInternal {
			s.log.Error("request failed", "method", c.r.Method, "path", c.r.URL.Path, "err", err)
		}
		s.writeError(w, err)
		return
	}
	if status == 0 {
		return // the endpoint wrote its answer itself
	}
	writeJSON(w, status, body)
}

// authenticated checks the bearer token before running ep.
func (s *Server) authenticated(ep endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor, err := s.authenticate(r)
		if err != nil {
			if s.writeError(w, err) == http.StatusUnauthorized {
				// The answer says "Connection: close"; reading no more of the body lets the server
				// close at once instead of draining what a caller without a token still sends.
				_ = http.NewResponseController(w).SetReadDeadline(time.Now())
			}
			return
		}
		proveConn(r.Context())
		setActor(w, actor)
		release, err := s.inflight.admit(r, actor)
		if err != nil {
			s.writeError(w, err)
			return
		}
		defer release()
		s.serve(w, &call{w: w, r: r, actor: actor}, ep)
	})
}

func (s *Server) authenticate(r *http.Request) (alloc.Actor, error) {
	h := r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(h, " ")
	if h == "" || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return alloc.Actor{}, errUnauthenticated("send the header \"Authorization: Bearer <token>\"")
	}
	a, err := s.b.Authenticate(strings.TrimSpace(token))
	if err != nil {
		if isUnavailable(err) {
			return alloc.Actor{}, err
		}
		return alloc.Actor{}, errUnauthenticated("the bearer token is not valid; ask an admin for a token")
	}
	return a, nil
}
