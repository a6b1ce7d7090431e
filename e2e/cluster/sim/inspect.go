package sim

import (
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
	defer c.mu.Unlock()
	return c.interfaces(pod)
}

// Checkpoints implements cluster.Inspector: the node agent's checkpoint store.
func (c *Cluster) Checkpoints(_ context.Context, node string) ([]string, error) {
	if err := c.lock(); err != nil {
		return nil, err
	}
	defer c.mu.Unlock()
	return c.w.Checkpoints(node)
}

// NodeLinks implements cluster.Inspector: the links of the node's dataplane.
func (c *Cluster) NodeLinks(_ context.Context, node string) ([]string, error) {
	if err := c.lock(); err != nil {
		return nil, err
	}
	defer c.mu.Unlock()
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
	defer c.mu.Unlock()
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
	defer c.mu.Unlock()
	err := c.w.Reach(from.Node, from.Netns, dst)
	c.w.Record("echo %s %s: %v", from.ContainerID, dst, err)
	if err != nil {
		c.w.Run(timeout)
		return fmt.Errorf("no echo reply from %s within %s: %w", dst, timeout, err)
	}
	return nil
}

// Exec implements cluster.Cluster for what the simulated dataplane holds: `ip [-4|-6] route [show]
// [default]`, `ip [-4|-6] addr [show]` and `ip link [show]`, printed as iproute2 prints them.
// Anything else is an error saying the sim does not model it.
func (c *Cluster) Exec(_ context.Context, pod *cluster.Pod, argv ...string) (string, error) {
	if err := c.lock(); err != nil {
		return "", err
	}
	defer c.mu.Unlock()
	dp, err := c.w.Dataplane(pod.Node)
	if err != nil {
		return "", err
	}
	if dp.Links(pod.Netns) == nil {
		return "", fmt.Errorf("%v in pod %s: the sandbox's network namespace is gone", argv, pod.Key())
	}
	return execIP(dp.Links(pod.Netns), argv)
}

// errNotModelled is Exec's answer to a command the simulated dataplane cannot answer.
var errNotModelled = errors.New("the sim driver runs no programs; its Exec answers only `ip [-4|-6] route|addr|link [show]` from the in-memory dataplane")

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

var _ cluster.Faults = (*Cluster)(nil)

// ForgetPod implements cluster.Faults: the pod object goes and its ports are released, without
// any DEL; the sandbox and its interfaces stay.
func (c *Cluster) ForgetPod(ctx context.Context, pod *cluster.Pod) error {
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	ps, _ := c.lookup(pod)
	if ps == nil {
		return fmt.Errorf("pod %s is not in this cluster", pod.Key())
	}
	c.w.DeletePod(pod.Namespace, pod.Name)
	ps.forgotten = true
	return c.release(ctx, ps.pod)
}

// KillSandbox implements cluster.Faults.
func (c *Cluster) KillSandbox(_ context.Context, pod *cluster.Pod) error {
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	ps, _ := c.lookup(pod)
	if ps == nil {
		return fmt.Errorf("pod %s is not in this cluster", pod.Key())
	}
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
