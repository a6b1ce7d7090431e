package local

import (
	"context"
	"fmt"

	"github.com/containernetworking/cni/libcni"
	"github.com/knitter-cni/knitter/e2e/cluster"
)

var _ cluster.RawRuntime = (*Cluster)(nil)

// raw returns the node's configuration list (renamed if asked) and the call's runtime conf.
func (c *Cluster) raw(call cluster.RawCall) (*libcni.NetworkConfigList, *libcni.RuntimeConf, error) {
	c.mu.Lock()
	node, ok := c.st.node(call.Node)
	c.mu.Unlock()
	if !ok {
		return nil, nil, fmt.Errorf("node %s is not in this cluster", call.Node)
	}
	list, err := loadConfList(*node)
	if err != nil {
		return nil, nil, err
	}
	return list, call.Apply(list, podIfName), nil
}

// RawAdd implements cluster.RawRuntime.
func (c *Cluster) RawAdd(ctx context.Context, call cluster.RawCall) error {
	list, rt, err := c.raw(call)
	if err != nil {
		return err
	}
	_, err = c.cni.AddNetworkList(ctx, list, rt)
	return err
}

// RawDel implements cluster.RawRuntime.
func (c *Cluster) RawDel(ctx context.Context, call cluster.RawCall) error {
	list, rt, err := c.raw(call)
	if err != nil {
		return err
	}
	return c.cni.DelNetworkList(ctx, list, rt)
}

// RawGC implements cluster.RawRuntime.
func (c *Cluster) RawGC(ctx context.Context, call cluster.RawCall) error {
	list, _, err := c.raw(call)
	if err != nil {
		return err
	}
	return c.cni.GCNetworkList(ctx, list, call.GCArgs())
}
