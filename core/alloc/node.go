package alloc

import (
	"slices"

	"github.com/knitter-cni/knitter/core/model"
)

// RegisterNode adds a node or updates its VTEP (its agent calls this on start, then periodically).
// Heartbeat is set to the current time when the node is added or changed; a call that changes
// nothing writes nothing, so an agent's periodic heartbeat never costs a durable write (the manager
// keeps liveness in memory).
func (s *State) RegisterNode(a Actor, n model.Node) (model.Node, []Mutation, error) {
	if err := a.checkNodes(); err != nil {
		return model.Node{}, nil, err
	}
	if err := n.Validate(); err != nil {
		return model.Node{}, nil, err
	}
	if cur, ok := s.nodes[n.Name]; ok && cur.VTEP == n.VTEP {
		return *cur, nil, nil
	}
	n.Heartbeat = s.now
	s.putNode(&n)
	return n, []Mutation{put(nodePrefix+n.Name, n)}, nil
}

// ReleaseNode forgets a node that is gone and releases every pod bound to it.
func (s *State) ReleaseNode(a Actor, name string) ([]Mutation, error) {
	if err := a.checkNodes(); err != nil {
		return nil, err
	}
	if _, ok := s.nodes[name]; !ok {
		return nil, model.Errorf(model.CodeNotFound, "name", "node %q is not registered", name)
	}
	var muts []Mutation
	for _, uid := range sortedKeys(s.pods) {
		if s.pods[uid].Node == name {
			_, m, err := s.ReleasePod(a, uid)
			mustOK(err)
			muts = append(muts, m...)
		}
	}
	s.dropNode(name)
	return append(muts, del(nodePrefix+name)), nil
}

// putNode adds or replaces a node, keeping nodeNames sorted.
func (s *State) putNode(n *model.Node) {
	if _, ok := s.nodes[n.Name]; !ok {
		i, _ := slices.BinarySearch(s.nodeNames, n.Name)
		s.nodeNames = slices.Insert(s.nodeNames, i, n.Name)
	}
	s.nodes[n.Name] = n
}

// dropNode forgets a node, keeping nodeNames sorted.
func (s *State) dropNode(name string) {
	if i, ok := slices.BinarySearch(s.nodeNames, name); ok {
		s.nodeNames = slices.Delete(s.nodeNames, i, i+1)
	}
	delete(s.nodes, name)
}

// Nodes returns every registered node, sorted by name.
func (s *State) Nodes() []model.Node {
	out := make([]model.Node, 0, len(s.nodes))
	for _, name := range s.nodeNames {
		out = append(out, *s.nodes[name])
	}
	return out
}

// EachNodeName calls fn with the name of every registered node, in name order, without the copy
// Nodes makes.
func (s *State) EachNodeName(fn func(name string)) {
	for _, name := range s.nodeNames {
		fn(name)
	}
}

// Node returns a registered node.
func (s *State) Node(name string) (model.Node, bool) {
	n, ok := s.nodes[name]
	if !ok {
		return model.Node{}, false
	}
	return *n, true
}
