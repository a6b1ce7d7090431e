package httpapi

import (
	"context"
	"errors"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// Backend is what the server needs from knitter-manager: a serialised state machine, token checks
// and leadership status.
type Backend interface {
	// Do applies one command (its As field names the actor) and returns its result once it is
	// durable. Errors are the core's *model.Error values, or errors that mean "retry later": ones
	// wrapping ErrUnavailable or carrying model.CodeUnavailable (not the leader, store down).
	Do(ctx context.Context, c alloc.Command) (any, error)
	// View runs fn with the current state under a read lock; fn must not keep references into it.
	// An error means the backend cannot serve reads now (not ready, not the leader).
	View(fn func(s *alloc.State)) error
	// Authenticate maps a bearer token to its actor. A missing or unknown token is an error with
	// model.CodeUnauthenticated (any error that is not "unavailable" is answered with 401).
	Authenticate(token string) (alloc.Actor, error)
	// CreateToken makes a new secret for t, stores t with the secret's hash only, and returns the
	// bearer string "<id>.<secret>": the only time the secret is ever shown.
	CreateToken(ctx context.Context, actor alloc.Actor, t model.Token) (string, error)
	// Status reports whether this manager serves requests itself, and where the leader is.
	Status() Status
}

// Status is a manager's view of its own role.
type Status struct {
	// Ready says the process can answer API requests, itself or by proxying to the leader; /readyz
	// reports it.
	Ready bool `json:"ready"`
	// Leader says this manager holds the leadership with its state loaded: only then does the server
	// run commands and queries itself. Otherwise it proxies or answers 503.
	Leader bool `json:"leader"`
	// LeaderURL is the base URL of the leader's API ("https://10.0.0.2:9527"), empty when unknown.
	LeaderURL string `json:"leader_url,omitempty"`
	// Reason says why the manager is not ready or not the leader, for /readyz and 503 answers.
	Reason string `json:"reason,omitempty"`
}

// ErrUnavailable means "the manager cannot serve this now; retry shortly". The backend wraps it (or
// returns a *model.Error with model.CodeUnavailable); the client returns errors that match it for
// 503 answers and for connection failures.
var ErrUnavailable = errors.New("knitter-manager is unavailable; retry shortly")

// isUnavailable reports whether err means "retry later".
func isUnavailable(err error) bool {
	return errors.Is(err, ErrUnavailable) || model.CodeOf(err) == model.CodeUnavailable
}
