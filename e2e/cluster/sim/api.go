package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/manager"
)

// apiTransport answers the admin client's requests with the manager's real REST server, in-process
// and in the driver's turn: a request is one of the driver's calls.
type apiTransport struct{ c *Cluster }

// RoundTrip implements http.RoundTripper.
func (t apiTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c := t.c
	if err := c.lock(); err != nil {
		return nil, err
	}
	defer c.unlock()
	if !c.w.ManagerRunning() {
		return nil, errors.New("dial knitter-manager: connection refused (the manager is stopped)")
	}
	if c.api == nil {
		c.api = httpapi.NewServer(backend{c}, httpapi.Options{Logger: slog.New(slog.DiscardHandler)})
	}
	rec := httptest.NewRecorder()
	c.api.ServeHTTP(rec, r)
	c.w.Record("api %s %s: %d", r.Method, r.URL.Path, rec.Code)
	return rec.Result(), nil
}

// backend is the running manager as the REST server's backend; called in the driver's turn only.
type backend struct{ c *Cluster }

func (b backend) mgr() (*manager.Manager, error) {
	if m := b.c.w.Manager(); m != nil {
		return m, nil
	}
	return nil, fmt.Errorf("%w: knitter-manager does not serve yet", httpapi.ErrUnavailable)
}

func (b backend) Do(ctx context.Context, cmd alloc.Command) (any, error) {
	m, err := b.mgr()
	if err != nil {
		return nil, err
	}
	return m.Do(ctx, cmd)
}

func (b backend) View(fn func(s *alloc.State)) error {
	m, err := b.mgr()
	if err != nil {
		return err
	}
	return m.View(fn)
}

func (b backend) Authenticate(token string) (alloc.Actor, error) {
	m, err := b.mgr()
	if err != nil {
		return alloc.Actor{}, err
	}
	return m.Authenticate(token)
}

func (b backend) CreateToken(ctx context.Context, actor alloc.Actor, t model.Token) (string, error) {
	m, err := b.mgr()
	if err != nil {
		return "", err
	}
	return m.CreateToken(ctx, actor, t)
}

func (b backend) Status() httpapi.Status {
	if m := b.c.w.Manager(); m != nil {
		return httpapi.Status{Ready: true, Leader: true}
	}
	return httpapi.Status{Reason: "knitter-manager has not activated yet"}
}
