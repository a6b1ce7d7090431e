package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/knitter-cni/knitter/e2e/cluster"
	"github.com/knitter-cni/knitter/fakes/fakedp"
)

// pingWindow is the virtual time Ping keeps sending for, one echo every pingInterval, when no ctx
// deadline comes first: the local driver's silence.
const (
	pingWindow   = 3 * time.Second
	pingInterval = 250 * time.Millisecond
)

// interfaces reads the pod's interfaces from its node's dataplane as the kernel would list them:
// sorted by name, global addresses only, IPv4 first.
func (c *Cluster) interfaces(p *cluster.Pod) ([]cluster.Interface, error) {
	dp, err := c.w.Dataplane(p.Node)
	if err != nil {
		return nil, err
	}
	var out []cluster.Interface
	for _, l := range dp.Links(p.Netns) {
		itf := cluster.Interface{Name: l.Name, MAC: l.MAC.String(), MTU: l.MTU}
		for _, a := range l.Addrs {
			if !a.Addr().IsLinkLocalUnicast() {
				itf.Addrs = append(itf.Addrs, a)
			}
		}
		slices.SortStableFunc(itf.Addrs, func(a, b netip.Prefix) int {
			switch {
			case a.Addr().Is4() == b.Addr().Is4():
				return 0
			case a.Addr().Is4():
				return -1
			}
			return 1
		})
		out = append(out, itf)
	}
	return out, nil
}

// PodInterfaces implements cluster.Inspector.
func (c *Cluster) PodInterfaces(_ context.Context, pod *cluster.Pod) ([]cluster.Interface, error) {
	if err := c.lock(); err != nil {
		return nil, err
	}
	defer c.unlock()
	return c.interfaces(pod)
}

// Checkpoints implements cluster.Inspector: the node agent's checkpoint store.
func (c *Cluster) Checkpoints(_ context.Context, node string) ([]string, error) {
	if err := c.lock(); err != nil {
		return nil, err
	}
	defer c.unlock()
	return c.w.Checkpoints(node)
}

// NodeLinks implements cluster.Inspector: the links of the node's dataplane.
func (c *Cluster) NodeLinks(_ context.Context, node string) ([]string, error) {
	if err := c.lock(); err != nil {
		return nil, err
	}
	defer c.unlock()
	dp, err := c.w.Dataplane(node)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range dp.Links("") {
		out = append(out, l.Name)
	}
	return out, nil
}

// Ping implements cluster.Cluster with computed reachability: one echo every pingInterval of
// virtual time, each answered when fakedp.Reach finds the path, for pingWindow or until ctx ends.
func (c *Cluster) Ping(ctx context.Context, from *cluster.Pod, dst netip.Addr) error {
	if err := c.lock(); err != nil {
		return err
	}
	defer c.unlock()
	var err error
	for sent := time.Duration(0); sent < pingWindow && ctx.Err() == nil; sent += pingInterval {
		if err = c.w.Reach(from.Node, from.Netns, dst); err == nil {
			c.w.Record("ping %s %s: answered", from.ContainerID, dst)
			return nil
		}
		c.w.Run(pingInterval)
	}
	c.w.Record("ping %s %s: %v", from.ContainerID, dst, err)
	return fmt.Errorf("no echo reply from %s in %s of virtual time: %w", dst, pingWindow, err)
}

// Echo implements cluster.Echoer: the one echo is answered when the path exists as it is sent
// (fakedp.Reach now); otherwise timeout of virtual time passes without an answer.
func (c *Cluster) Echo(_ context.Context, from *cluster.Pod, dst netip.Addr, timeout time.Duration) error {
	if err := c.lock(); err != nil {
		return err
	}
	defer c.unlock()
	err := c.w.Reach(from.Node, from.Netns, dst)
	c.w.Record("echo %s %s: %v", from.ContainerID, dst, err)
	if err != nil {
		c.w.Run(timeout)
		return fmt.Errorf("no echo reply from %s within %s: %w", dst, timeout, err)
	}
	return nil
}

// Exec implements cluster.Cluster for what the simulated dataplane holds: `ip [-4|-6] route [show]
// [default]`, `ip [-4|-6] addr [show]` and `ip link [show]`, printed as iproute2 prints them, and
// static neighbour entries (`ip neigh replace|show`).
// Anything else is an error saying the sim does not model it.
func (c *Cluster) Exec(_ context.Context, pod *cluster.Pod, argv ...string) (string, error) {
	if err := c.lock(); err != nil {
		return "", err
	}
	defer c.unlock()
	dp, err := c.w.Dataplane(pod.Node)
	if err != nil {
		return "", err
	}
	if dp.Links(pod.Netns) == nil {
		return "", fmt.Errorf("%v in pod %s: the sandbox's network namespace is gone", argv, pod.Key())
	}
	if out, ok, err := c.neigh(pod, dp.Links(pod.Netns), argv); ok {
		return out, err
	}
	return execIP(dp.Links(pod.Netns), argv)
}

// neigh runs `ip neigh replace ADDR lladdr MAC dev IF [nud permanent]` and `ip neigh [show]`
// against the pod's static neighbour entries, which the driver keeps (ok false for other
// commands). An entry changes how a pod finds a destination's MAC, never the L2 segment its frames
// are on, so Reach does not look at them: a pod of VLAN 100 that knows a VLAN 200 pod's MAC still
// sends its frames tagged 100.
func (c *Cluster) neigh(pod *cluster.Pod, links []fakedp.Link, argv []string) (string, bool, error) {
	if len(argv) < 2 || argv[0] != "ip" || argv[1] != "neigh" && argv[1] != "neighbor" && argv[1] != "n" {
		return "", false, nil
	}
	args := argv[2:]
	if len(args) == 0 || args[0] == "show" || args[0] == "list" {
		return strings.Join(c.neighbours[pod.Netns], ""), true, nil
	}
	if args[0] != "replace" && args[0] != "add" || len(args) < 6 || args[2] != "lladdr" || args[4] != "dev" {
		return "", true, fmt.Errorf("exec %q: %w", argv, errNotModelled)
	}
	ip, err := netip.ParseAddr(args[1])
	if err != nil {
		return "", true, fmt.Errorf("exec %q: %q is no address", argv, args[1])
	}
	if !slices.ContainsFunc(links, func(l fakedp.Link) bool { return l.Name == args[5] }) {
		return "", true, fmt.Errorf("exec %q: Cannot find device %q", argv, args[5])
	}
	entry := fmt.Sprintf("%s dev %s lladdr %s PERMANENT\n", ip, args[5], args[3])
	if c.neighbours == nil {
		c.neighbours = map[string][]string{}
	}
	list := slices.DeleteFunc(c.neighbours[pod.Netns], func(e string) bool { return strings.HasPrefix(e, ip.String()+" dev "+args[5]+" ") })
	c.neighbours[pod.Netns] = append(list, entry)
	c.w.Record("neigh %s %s", pod.ContainerID, strings.TrimSpace(entry))
	return "", true, nil
}

// errNotModelled is Exec's answer to a command the simulated dataplane cannot answer.
var errNotModelled = errors.New("the sim driver runs no programs; its Exec answers only `ip [-4|-6] route|addr|link [show]` from the in-memory dataplane and `ip neigh replace|show`")

func execIP(links []fakedp.Link, argv []string) (string, error) {
	if len(argv) == 0 || argv[0] != "ip" {
		return "", fmt.Errorf("exec %q: %w", argv, errNotModelled)
	}
	family := 0
	args := argv[1:]
	for len(args) > 0 && (args[0] == "-4" || args[0] == "-6") {
		family = map[string]int{"-4": 4, "-6": 6}[args[0]]
		args = args[1:]
	}
	if len(args) == 0 {
		return "", fmt.Errorf("exec %q: %w", argv, errNotModelled)
	}
	obj, rest := args[0], args[1:]
	if len(rest) > 0 && (rest[0] == "show" || rest[0] == "list") {
		rest = rest[1:]
	}
	fam := func(a netip.Addr) bool { return family == 0 || a.Is4() == (family == 4) }
	var b strings.Builder
	switch {
	case obj == "route" || obj == "r" || obj == "ro":
		onlyDefault := len(rest) == 1 && rest[0] == "default"
		if len(rest) > 0 && !onlyDefault {
			return "", fmt.Errorf("exec %q: %w", argv, errNotModelled)
		}
		if family == 0 {
			family = 4 // ip route shows IPv4 unless told otherwise
		}
		for _, l := range links {
			for _, r := range l.Routes {
				if !fam(r.Dst.Addr()) || onlyDefault && r.Dst.Bits() != 0 {
					continue
				}
				dst := r.Dst.String()
				if r.Dst.Bits() == 0 {
					dst = "default"
				}
				if r.Gateway.IsValid() {
					fmt.Fprintf(&b, "%s via %s dev %s\n", dst, r.Gateway, l.Name)
				} else {
					fmt.Fprintf(&b, "%s dev %s scope link\n", dst, l.Name)
				}
			}
			if onlyDefault {
				continue
			}
			for _, a := range l.Addrs {
				if fam(a.Addr()) {
					fmt.Fprintf(&b, "%s dev %s proto kernel scope link src %s\n", a.Masked(), l.Name, a.Addr())
				}
			}
		}
	case (obj == "addr" || obj == "a" || obj == "address") && len(rest) == 0:
		for i, l := range links {
			fmt.Fprintf(&b, "%d: %s: <%s> mtu %d\n    link/ether %s\n", i+2, l.Name, flags(l), l.MTU, l.MAC)
			for _, a := range l.Addrs {
				if fam(a.Addr()) {
					kind := "inet"
					if a.Addr().Is6() {
						kind = "inet6"
					}
					fmt.Fprintf(&b, "    %s %s scope global %s\n", kind, a, l.Name)
				}
			}
		}
	case (obj == "link" || obj == "l") && len(rest) == 0:
		for i, l := range links {
			fmt.Fprintf(&b, "%d: %s: <%s> mtu %d\n    link/ether %s\n", i+2, l.Name, flags(l), l.MTU, l.MAC)
		}
	default:
		return "", fmt.Errorf("exec %q: %w", argv, errNotModelled)
	}
	return b.String(), nil
}

func flags(l fakedp.Link) string {
	if l.Up {
		return "BROADCAST,MULTICAST,UP,LOWER_UP"
	}
	return "BROADCAST,MULTICAST"
}

var (
	_ cluster.Faults       = (*Cluster)(nil)
	_ cluster.AgentMetrics = (*Cluster)(nil)
)

// AgentMetric implements cluster.AgentMetrics: /metrics of the node's agent handler.
func (c *Cluster) AgentMetric(_ context.Context, node, series string) (float64, error) {
	if err := c.lock(); err != nil {
		return 0, err
	}
	defer c.unlock()
	text, err := c.w.AgentMetrics(node)
	if err != nil {
		return 0, err
	}
	v, err := cluster.SeriesValue(bytes.NewReader(text), series)
	if err != nil {
		return 0, fmt.Errorf("%s's agent metrics: %w", node, err)
	}
	return v, nil
}

// ForgetPod implements cluster.Faults: the pod object goes and its ports are released, without
// any DEL; the sandbox and its interfaces stay.
func (c *Cluster) ForgetPod(ctx context.Context, pod *cluster.Pod) error {
	ps, err := c.lockPod(pod)
	if err != nil {
		return err
	}
	defer c.unlock()
	c.w.DeletePod(pod.Namespace, pod.Name)
	ps.forgotten = true
	return c.release(ctx, ps.pod)
}

// KillSandbox implements cluster.Faults.
func (c *Cluster) KillSandbox(_ context.Context, pod *cluster.Pod) error {
	ps, err := c.lockPod(pod)
	if err != nil {
		return err
	}
	defer c.unlock()
	return c.w.KillNetns(pod.Node, ps.pod.Netns)
}

// RestartAgent implements cluster.Faults: the agent stops, while runs (virtual time passes only in
// the driver's calls it makes), and the agent starts again over its checkpoints, reclaiming before
// it serves.
func (c *Cluster) RestartAgent(_ context.Context, node string, while func() error) error {
	if err := c.lock(); err != nil {
		return err
	}
	err := c.w.StopAgent(node)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	// while may use the cluster itself, so it runs unlocked.
	werr := while()
	if err := c.lock(); err != nil {
		return errors.Join(werr, err)
	}
	defer c.mu.Unlock()
	return errors.Join(werr, c.w.StartAgent(node))
}
