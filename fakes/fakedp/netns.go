package fakedp

import (
	"context"
	"fmt"

	"github.com/knitter-cni/knitter/core/model"
)

// NodeNetns is the path of the fake node's own network namespace (the agent's too): CheckNetns
// refuses it, as the real dataplane refuses the node's.
const NodeNetns = "/var/run/netns/fake-node"

// NewForeign makes a namespace file of another type (kind "uts", "mount", ...) and returns its path.
func (f *Fake) NewForeign(kind string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextNS++
	path := fmt.Sprintf("/proc/fake-%d/ns/%s", f.nextNS, kind)
	if f.foreign == nil {
		f.foreign = map[string]string{}
	}
	f.foreign[path] = kind
	return path
}

// AddForeign makes path a namespace file of another type (kind "uts", ...), as /proc/self/ns/uts
// is on every machine.
func (f *Fake) AddForeign(path, kind string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.foreign == nil {
		f.foreign = map[string]string{}
	}
	f.foreign[path] = kind
}

// CheckNetns implements agent.Dataplane.
func (f *Fake) CheckNetns(_ context.Context, path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if kind, ok := f.foreign[path]; ok {
		return model.Invalid("CNI_NETNS", "%s is a %s namespace, not a network namespace; pass the sandbox's network namespace", path, kind)
	}
	if path == NodeNetns {
		return model.Invalid("CNI_NETNS", "%s is the node's own network namespace; a pod needs a namespace of its own (the runtime passed the wrong path)", path)
	}
	if _, ok := f.spaces[path]; !ok || path == node {
		return model.Errorf(model.CodeNotFound, "netns", "network namespace %s does not exist; the container runtime must pass the sandbox's live namespace", path)
	}
	return nil
}
