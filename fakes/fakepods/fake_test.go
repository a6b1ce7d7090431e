package fakepods_test

import (
	"context"
	"errors"
	"testing"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/porttest"
	"github.com/knitter-cni/knitter/fakes/fakepods"
)

func TestContract(t *testing.T) {
	porttest.PodSource(t, porttest.PodSourceSpec{}, func(_ *testing.T, pods []agent.PodInfo) agent.PodSource {
		f := fakepods.New()
		for _, p := range pods {
			f.PutInfo(p)
		}
		return f
	})
}

func TestDown(t *testing.T) {
	f := fakepods.New()
	f.Put("acme", "web", "", nil)
	f.SetDown(true)
	if _, err := f.Pod(context.Background(), agent.PodKey{Namespace: "acme", Name: "web"}); !errors.Is(err, agent.ErrUnavailable) {
		t.Fatalf("Pod with the source down = %v", err)
	}
}
