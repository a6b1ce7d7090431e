package httpapi

import (
	"net/http"

	"github.com/knitter-cni/knitter/core/model"
)

// healthz answers while the process runs: a liveness probe must not fail because of the store or
// the election.
func (s *Server) healthz(*call) (int, any, error) {
	return http.StatusOK, map[string]string{"status": "ok"}, nil
}

// readyz reports Status: 200 when ready, else 503 with the reason.
func (s *Server) readyz(*call) (int, any, error) {
	st := s.b.Status()
	if !st.Ready {
		why := st.Reason
		if why == "" {
			why = "not ready"
		}
		return 0, nil, model.Errorf(model.CodeUnavailable, "", "knitter-manager is not ready: %s", why)
	}
	return http.StatusOK, st, nil
}
