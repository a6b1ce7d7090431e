package httpapi

import (
	"net"
	"net/http"
	"sync"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// DefaultMaxInFlightPerClient is Options.MaxInFlightPerClient's default.
const DefaultMaxInFlightPerClient = 128

// inflight counts the requests each client has in flight. A client is a caller (its role and
// tenant) at one address: agents share the system token but each runs on its own node.
type inflight struct {
	max int
	mu  sync.Mutex
	n   map[string]int
}

func newInflight(limit int) *inflight {
	switch {
	case limit == 0:
		limit = DefaultMaxInFlightPerClient
	case limit < 0:
		limit = 0 // unlimited
	}
	return &inflight{max: limit, n: map[string]int{}}
}

// admit lets one more request of the caller in, or refuses it with 429 when the caller already has
// max in flight: one client cannot occupy the server with slow or many concurrent requests. The
// returned release must be called when the request is answered.
func (f *inflight) admit(r *http.Request, a alloc.Actor) (release func(), err error) {
	if f.max == 0 {
		return func() {}, nil
	}
	host, _, splitErr := net.SplitHostPort(r.RemoteAddr)
	if splitErr != nil {
		host = r.RemoteAddr
	}
	key := actorName(a) + "@" + host
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n[key] >= f.max {
		return nil, model.Errorf(CodeTooManyRequests, "", "this client (%s at %s) already has %d requests in flight; wait for their answers or retry after Retry-After", actorName(a), host, f.max)
	}
	f.n[key]++
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.n[key]--; f.n[key] == 0 {
			delete(f.n, key)
		}
	}, nil
}
