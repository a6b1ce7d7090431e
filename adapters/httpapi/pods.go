package httpapi

import (
	"net/http"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// allocatePod allocates every port of a pod. The call is idempotent by pod UID: 201 when this call
// allocated, 200 when the same request had been allocated before.
func (s *Server) allocatePod(c *call) (int, any, error) {
	var req alloc.PodRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	existed := false
	if err := s.view(func(st *alloc.State) error {
		_, existed = st.Pod(req.Pod.UID)
		return nil
	}); err != nil {
		return 0, nil, err
	}
	res, err := s.b.Do(c.ctx(), alloc.AllocatePodCmd{As: c.as(), PodRequest: req})
	if err != nil {
		return 0, nil, err
	}
	status := http.StatusCreated
	if existed {
		status = http.StatusOK
	}
	return status, res, nil
}

func (s *Server) getPod(c *call) (int, any, error) {
	uid := c.r.PathValue("uid")
	var pod model.Pod
	err := s.view(func(st *alloc.State) error {
		var ok bool
		if pod, ok = st.Pod(uid); !ok {
			return notFound("uid", "pod %s has no ports; allocate them first", uid)
		}
		return mustSee(c.actor, pod.Tenant)
	})
	return http.StatusOK, pod, err
}

func (s *Server) bindPod(c *call) (int, any, error) {
	var req BindRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	res, err := s.b.Do(c.ctx(), alloc.BindPodCmd{As: c.as(), UID: c.r.PathValue("uid"), Node: req.Node})
	return http.StatusOK, res, err
}

// releasePod frees a pod's ports; releasing a pod that has none succeeds too.
func (s *Server) releasePod(c *call) (int, any, error) {
	_, err := s.b.Do(c.ctx(), alloc.ReleasePodCmd{As: c.as(), UID: c.r.PathValue("uid")})
	return http.StatusNoContent, nil, err
}
