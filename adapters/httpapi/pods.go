package httpapi

import (
	"net/http"
	"strings"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// allocatePod allocates every port of a pod. The call is idempotent by pod UID: 201 when this call
// allocated, 200 when the same request had been allocated before.
func (s *Server) allocatePod(c *call) (int, any, error) {
	body, err := readBody(c.w, c.r)
	if err != nil {
		return 0, nil, err
	}
	// The plain form is read by hand; any other body goes to decodeJSON, which decides.
	req, ok := decodePodRequest(body)
	if !ok {
		req = alloc.PodRequest{}
		if err := decodeJSON(body, &req); err != nil {
			return 0, nil, err
		}
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
		// A pod the caller may not read answers as a missing one: its path names no tenant, so a
		// 403 would tell another tenant that the UID exists.
		var ok bool
		if pod, ok = st.Pod(uid); !ok || !sees(c.actor, pod.Tenant) {
			pod = model.Pod{}
			return notFound("uid", "pod %s has no ports; allocate them first", uid)
		}
		return nil
	})
	return http.StatusOK, pod, err
}

// othersPod reports whether uid is a pod the caller may not read. Such a pod is answered as a
// missing one by every route that names it by UID: the path names no tenant, so anything else
// would tell another tenant that the UID exists.
func (s *Server) othersPod(c *call, uid string) (bool, error) {
	var others bool
	err := s.view(func(st *alloc.State) error {
		pod, ok := st.Pod(uid)
		others = ok && !sees(c.actor, pod.Tenant)
		return nil
	})
	return others, err
}

func (s *Server) bindPod(c *call) (int, any, error) {
	var req BindRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	uid := c.r.PathValue("uid")
	if others, err := s.othersPod(c, uid); err != nil || others {
		if err == nil {
			err = notFound("pod.uid", "pod %s has no ports; allocate them first", uid) // as the core says
		}
		return 0, nil, err
	}
	withNetworks, err := includeNetworks(c.r.URL.Query().Get("include"))
	if err != nil {
		return 0, nil, err
	}
	res, err := s.b.Do(c.ctx(), alloc.BindPodCmd{As: c.as(), UID: c.r.PathValue("uid"), Node: req.Node})
	if err != nil || !withNetworks {
		return http.StatusOK, res, err
	}
	pod := res.(model.Pod)
	out := BoundPod{Pod: pod}
	err = s.view(func(st *alloc.State) error {
		out.Networks = podNetworks(st, pod)
		return nil
	})
	return http.StatusOK, out, err
}

// includeNetworks reads bind's include parameter: "" or "networks".
func includeNetworks(v string) (bool, error) {
	switch v {
	case "":
		return false, nil
	case "networks":
		return true, nil
	}
	return false, model.Invalid("include", "is %q; the one value bind takes is \"networks\" (the networks of the pod's ports in the answer)", v)
}

// podNetworks returns the networks of pod's ports, each once, in the order the ports name them. A
// network cannot be deleted while ports are on it, so every one is there unless the pod was
// released (and the network deleted) since the bind; such a network is left out.
func podNetworks(st *alloc.State, pod model.Pod) []model.Network {
	var out []model.Network
	seen := map[string]bool{}
	for _, p := range pod.Ports {
		if seen[p.Network] {
			continue
		}
		seen[p.Network] = true
		tenant, name, _ := strings.Cut(p.Network, "/")
		if n, ok := st.Network(tenant, name); ok {
			out = append(out, n)
		}
	}
	return out
}

// releasePod frees a pod's ports; releasing a pod that has none succeeds too, and so, changing
// nothing, does releasing another tenant's pod: for the caller it is a pod without ports.
func (s *Server) releasePod(c *call) (int, any, error) {
	if others, err := s.othersPod(c, c.r.PathValue("uid")); err != nil || others {
		return http.StatusNoContent, nil, err
	}
	_, err := s.b.Do(c.ctx(), alloc.ReleasePodCmd{As: c.as(), UID: c.r.PathValue("uid")})
	return http.StatusNoContent, nil, err
}
