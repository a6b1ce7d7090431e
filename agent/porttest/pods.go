package porttest

import (
	"context"
	"testing"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/core/model"
)

// PodSourceSpec describes what a PodSource does with a pod it has no record of.
type PodSourceSpec struct {
	// MissingIsDefault says a pod the source does not know is taken as one without annotations,
	// named by the runtime's UID; otherwise it is not found.
	MissingIsDefault bool
}

// PodSource runs the PodSource contract on sources made by open, each holding exactly pods.
func PodSource(t *testing.T, spec PodSourceSpec, open func(t *testing.T, pods []agent.PodInfo) agent.PodSource) {
	ctx := context.Background()
	web := agent.PodInfo{Ref: model.PodRef{UID: "u-1", Namespace: "acme", Name: "web"},
		Annotations: map[string]string{"k8s.v1.cni.cncf.io/networks": "vl"}}
	bare := agent.PodInfo{Ref: model.PodRef{UID: "u-2", Namespace: "acme", Name: "bare"}}

	t.Run("found", func(t *testing.T) {
		s := open(t, []agent.PodInfo{web, bare})
		for _, k := range []agent.PodKey{{Namespace: "acme", Name: "web"}, {Namespace: "acme", Name: "web", UID: "u-1"}} {
			info, err := s.Pod(ctx, k)
			if err != nil {
				t.Fatalf("Pod(%+v): %v", k, err)
			}
			if info.Ref != web.Ref || info.Annotations["k8s.v1.cni.cncf.io/networks"] != "vl" || len(info.Annotations) != 1 {
				t.Fatalf("Pod(%+v) = %+v, want %+v", k, info, web)
			}
			info.Annotations["k8s.v1.cni.cncf.io/networks"] = "changed"
		}
		again, err := s.Pod(ctx, agent.PodKey{Namespace: "acme", Name: "web"})
		if err != nil || again.Annotations["k8s.v1.cni.cncf.io/networks"] != "vl" {
			t.Fatalf("a caller's change to the annotations reached the source: %+v, %v", again, err)
		}
		info, err := s.Pod(ctx, agent.PodKey{Namespace: "acme", Name: "bare"})
		if err != nil || info.Ref != bare.Ref || len(info.Annotations) != 0 {
			t.Fatalf("Pod(bare) = %+v, %v", info, err)
		}
	})
	t.Run("recreated pod", func(t *testing.T) {
		s := open(t, []agent.PodInfo{web})
		_, err := s.Pod(ctx, agent.PodKey{Namespace: "acme", Name: "web", UID: "u-old"})
		if model.CodeOf(err) != model.CodeNotFound {
			t.Fatalf("a UID mismatch gave %v (code %q), want not found", err, model.CodeOf(err))
		}
	})
	t.Run("missing pod", func(t *testing.T) {
		s := open(t, []agent.PodInfo{web})
		info, err := s.Pod(ctx, agent.PodKey{Namespace: "acme", Name: "gone", UID: "u-9"})
		if spec.MissingIsDefault {
			if err != nil || info.Ref != (model.PodRef{UID: "u-9", Namespace: "acme", Name: "gone"}) || len(info.Annotations) != 0 {
				t.Fatalf("Pod(gone) = %+v, %v; want the runtime's UID and no annotations", info, err)
			}
			return
		}
		if model.CodeOf(err) != model.CodeNotFound {
			t.Fatalf("a missing pod gave %+v, %v (code %q), want not found", info, err, model.CodeOf(err))
		}
	})
}
