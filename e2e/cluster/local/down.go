package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/knitter-cni/knitter/core/plan"
)

// delTimeout bounds each pod's DEL during Down; an agent that does not answer must not stop the rest.
const delTimeout = 30 * time.Second

// Down implements cluster.Cluster: DEL of every pod while the agents still run, then the sandboxes,
// the agents, the manager, the node and hub namespaces, and finally the directory. It keeps going
// past failures; the directory (and its state file) stays if anything could not be removed, so
// that Down can be run again.
func (c *Cluster) Down(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return nil
	}
	var errs []error
	for i := len(c.st.Pods) - 1; i >= 0; i-- {
		ps := c.st.Pods[i]
		if node, ok := c.st.node(ps.Node); ok && node.Agent.alive() {
			if err := c.delLocked(ctx, ps, *node); err != nil {
				// The node's namespace goes below, and everything of the pod with it.
				c.logf("warning: %v", err)
			}
		}
		if err := c.removeSandbox(ps); err != nil {
			errs = append(errs, err)
			continue
		}
		c.gone = append(c.gone, ps)
		c.st.Pods = slices.Delete(c.st.Pods, i, i+1)
	}
	for _, agents := range [][]nodeState{c.st.Extra, c.st.Nodes} {
		for i := range agents {
			if err := agents[i].Agent.stop(); err != nil {
				errs = append(errs, fmt.Errorf("agent of %s: %w", agents[i].Name, err))
			}
		}
	}
	if err := c.st.Manager.Proc.stop(); err != nil {
		errs = append(errs, fmt.Errorf("knitter-manager: %w", err))
	}
	// Every namespace of the run, including any a crash left unrecorded. Nodes before the hub: the
	// hub's ends of the wires go with the nodes' ends.
	left, err := listNetns(c.n.prefix())
	errs = append(errs, err)
	slices.SortFunc(left, func(a, b string) int {
		return boolOrder(a == c.st.Hub, b == c.st.Hub)
	})
	for _, name := range left {
		errs = append(errs, deleteNetns(name))
	}
	if err := errors.Join(errs...); err != nil {
		return errors.Join(err, c.st.save())
	}
	if err := os.RemoveAll(c.st.Dir); err != nil {
		return fmt.Errorf("removing %s: %w", c.st.Dir, err)
	}
	c.down = true
	c.logf("cluster %s removed", c.n.runID)
	return nil
}

// delLocked runs DEL for one pod with its own time bound; the caller holds c.mu.
func (c *Cluster) delLocked(ctx context.Context, ps podState, node nodeState) error {
	ctx, cancel := context.WithTimeout(ctx, delTimeout)
	defer cancel()
	list, err := loadConfList(node)
	if err != nil {
		return err
	}
	if err := c.cni.DelNetworkList(ctx, list, runtimeConf(ps)); err != nil {
		return fmt.Errorf("DEL of pod %s/%s: %w", ps.Namespace, ps.Name, err)
	}
	return nil
}

func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// Leftovers lists what of the cluster is still on the machine: running processes, namespaces of
// the run, links in the root namespace named after the run or after one of its pods' veths, and the
// directory. After a successful Down it is empty.
func (c *Cluster) Leftovers() ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	if c.st.Manager.Proc.alive() {
		out = append(out, fmt.Sprintf("knitter-manager pid %d", c.st.Manager.Proc.Pid))
	}
	for _, n := range slices.Concat(c.st.Nodes, c.st.Extra) {
		if n.Agent.alive() {
			out = append(out, fmt.Sprintf("knitter-agent of %s pid %d", n.Name, n.Agent.Pid))
		}
	}
	nss, err := listNetns(c.n.prefix())
	if err != nil {
		return nil, err
	}
	for _, n := range nss {
		out = append(out, "network namespace "+n)
	}
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("listing the root namespace's links: %w", err)
	}
	veths := map[string]bool{}
	for _, p := range c.everyPod() {
		for _, itf := range p.Interfaces {
			veths[plan.HostIfName(p.ContainerID, itf)] = true
		}
	}
	for _, l := range links {
		name := l.Attrs().Name
		if strings.Contains(name, c.n.runID) || veths[name] {
			out = append(out, "link "+name+" in the root namespace")
		}
	}
	if _, err := os.Stat(c.st.Dir); err == nil {
		out = append(out, "directory "+c.st.Dir)
	}
	return out, nil
}

// everyPod is every pod the cluster made, deleted ones included; the caller holds c.mu.
func (c *Cluster) everyPod() []podState {
	return append(slices.Clone(c.gone), c.st.Pods...)
}
