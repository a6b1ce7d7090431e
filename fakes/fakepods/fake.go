// Package fakepods is an in-memory agent.PodSource with an outage switch, standing in for the API
// server or the pod files.
package fakepods

import (
	"context"
	"fmt"
	"maps"
	"sync"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/core/model"
)

// Pods is an in-memory agent.PodSource with an outage switch, standing in for the API server.
type Pods struct {
	mu   sync.Mutex
	pods map[string]agent.PodInfo
	down bool
}

var _ agent.PodSource = (*Pods)(nil)

// New returns an empty source.
func New() *Pods { return &Pods{pods: map[string]agent.PodInfo{}} }

// Put adds or replaces a pod; its UID is namespace-name unless uid is given.
func (p *Pods) Put(namespace, name, uid string, annotations map[string]string) agent.PodInfo {
	if uid == "" {
		uid = namespace + "-" + name
	}
	return p.PutInfo(agent.PodInfo{Ref: model.PodRef{UID: uid, Namespace: namespace, Name: name}, Annotations: annotations})
}

// PutInfo adds or replaces a pod as it is, owner included.
func (p *Pods) PutInfo(info agent.PodInfo) agent.PodInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pods[info.Ref.Namespace+"/"+info.Ref.Name] = cloneInfo(info)
	return info
}

// Delete removes the pod, as deleting the pod object does.
func (p *Pods) Delete(namespace, name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.pods, namespace+"/"+name)
}

// SetDown makes every lookup fail as an unreachable API server does.
func (p *Pods) SetDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
}

// Pod implements agent.PodSource.
func (p *Pods) Pod(_ context.Context, k agent.PodKey) (agent.PodInfo, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return agent.PodInfo{}, fmt.Errorf("%w: the API server does not answer", agent.ErrUnavailable)
	}
	info, ok := p.pods[k.String()]
	if !ok {
		return agent.PodInfo{}, model.Errorf(model.CodeNotFound, "pod", "pod %s does not exist", k)
	}
	if k.UID != "" && k.UID != info.Ref.UID {
		return agent.PodInfo{}, model.Errorf(model.CodeNotFound, "CNI_ARGS", "pod %s is UID %s, not the runtime's %s; the pod was deleted and created again", k, info.Ref.UID, k.UID)
	}
	return cloneInfo(info), nil
}

func cloneInfo(info agent.PodInfo) agent.PodInfo {
	info.Annotations = maps.Clone(info.Annotations)
	return info
}
