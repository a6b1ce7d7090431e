package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/adapters/vlanbpf"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/netspec"
	"github.com/knitter-cni/knitter/e2e/cluster"
	"github.com/knitter-cni/knitter/e2e/cluster/local"
)

// demoTenant is the tenant (and pod namespace) of the demo pods; examples/bootstrap.yaml defines it.
const demoTenant = "demo"

// pingTimeout bounds each demo ping; the first one also waits for the agents' peer poll.
const pingTimeout = 20 * time.Second

func runUp(ctx context.Context, out io.Writer, o options) (err error) {
	start := time.Now()
	c, err := local.Up(ctx, local.Config{Dir: o.dir, Nodes: o.nodes, Bootstrap: o.bootstrap, Detached: true, Progress: prefixed(out, "==> ")})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			fmt.Fprintf(out, "==> the demo failed; removing the cluster\n")
			if derr := c.Down(context.WithoutCancel(ctx)); derr != nil {
				err = errors.Join(err, fmt.Errorf("removing the cluster: %w (run: go run ./hack/localcluster down --dir %s)", derr, o.dir))
			}
		}
	}()
	annotation, err := demoNetworks(ctx, out, c.ManagerClient(), vlanbpf.Probe)
	if err != nil {
		return err
	}
	var pods []*cluster.Pod
	for _, n := range c.Nodes() {
		spec := cluster.PodSpec{Namespace: demoTenant, Name: "web-" + n.Name, Node: n.Name,
			Annotations: map[string]string{netspec.NPWGAnnotation: annotation}}
		fmt.Fprintf(out, "==> creating pod %s/%s on %s through knitter-plugin ADD\n", spec.Namespace, spec.Name, n.Name)
		p, err := c.CreatePod(ctx, spec)
		if err != nil {
			return err
		}
		pods = append(pods, p)
	}
	fmt.Fprintln(out)
	for _, p := range pods {
		if err := printPod(ctx, out, c.ManagerClient(), p); err != nil {
			return err
		}
	}
	if err := pingAcross(ctx, out, c, pods); err != nil {
		return err
	}
	st := c.Status()
	fmt.Fprintf(out, `
Knitter is running (cluster %s, up in %.1fs). Look around:
  go run ./hack/localcluster status%[3]s
  export KNITTER_SERVER=%[4]s KNITTER_CA_FILE=%[5]s KNITTER_TOKEN_FILE=%[6]s
  _output/knitterctl port get
  ip netns exec %[7]s ip addr
Remove everything with:
  go run ./hack/localcluster down%[3]s
`, st.RunID, time.Since(start).Seconds(), dirFlag(o.dir), st.ManagerURL, st.CAFile, st.AdminTokenFile, strings.TrimPrefix(pods[0].Netns, "/run/netns/"))
	return nil
}

// demoNetworks returns the NPWG annotation of the demo pods: every network the demo tenant can
// attach besides its default (which is eth0), one interface each. A vlan network is left out, with a
// line saying why, when vlanProbe says the kernel cannot run the eBPF VLAN datapath.
func demoNetworks(ctx context.Context, out io.Writer, mc *httpapi.Client, vlanProbe func() error) (string, error) {
	tenant, err := mc.GetTenant(ctx, demoTenant)
	if err != nil {
		return "", fmt.Errorf("the demo needs tenant %q (see examples/bootstrap.yaml): %w", demoTenant, err)
	}
	all, err := mc.ListNetworks(ctx, "")
	if err != nil {
		return "", err
	}
	slices.SortFunc(all, func(a, b model.Network) int { return strings.Compare(a.Key(), b.Key()) })
	var refs []string
	for _, n := range all {
		if n.Tenant != demoTenant && !n.Public || n.Tenant == demoTenant && n.Name == tenant.DefaultNetwork {
			continue
		}
		switch n.Type {
		case model.VLAN:
			if err := vlanProbe(); err != nil {
				fmt.Fprintf(out, "==> skipping the VLAN NIC on %s: this kernel cannot run the eBPF VLAN datapath: %v\n", n.Key(), err)
				continue
			}
		case model.SRIOV:
			fmt.Fprintf(out, "==> skipping the SR-IOV NIC on %s: the local nodes have no virtual functions\n", n.Key())
			continue
		}
		refs = append(refs, fmt.Sprintf("%s/%s@net%d", n.Tenant, n.Name, len(refs)+1))
	}
	return strings.Join(refs, ", "), nil
}

// printPod prints the pod's interfaces as the kernel has them, with the network of each.
func printPod(ctx context.Context, out io.Writer, mc *httpapi.Client, p *cluster.Pod) error {
	alloc, err := mc.GetPod(ctx, p.UID)
	if err != nil {
		return fmt.Errorf("reading pod %s's ports: %w", p.Key(), err)
	}
	fmt.Fprintf(out, "pod %s on %s (netns %s)\n", p.Key(), p.Node, p.Netns)
	for _, itf := range p.Interfaces {
		network := "?"
		for _, port := range alloc.Ports {
			if port.Interface == itf.Name {
				network = port.Network
			}
		}
		addrs := make([]string, len(itf.Addrs))
		for i, a := range itf.Addrs {
			addrs[i] = a.String()
		}
		fmt.Fprintf(out, "  %-5s %-20s %s  mtu %d  %s\n", itf.Name, network, itf.MAC, itf.MTU, strings.Join(addrs, " "))
	}
	fmt.Fprintln(out)
	return nil
}

// pingAcross pings, from the first node's pod, every address of the second node's pod.
func pingAcross(ctx context.Context, out io.Writer, c cluster.Cluster, pods []*cluster.Pod) error {
	if len(pods) < 2 {
		fmt.Fprintln(out, "==> one node only: nothing to ping across")
		return nil
	}
	from, to := pods[0], pods[1]
	for _, itf := range to.Interfaces {
		for _, a := range itf.Addrs {
			if err := ping(ctx, out, c, from, to, itf.Name, a.Addr()); err != nil {
				return err
			}
		}
	}
	return nil
}

func ping(ctx context.Context, out io.Writer, c cluster.Cluster, from, to *cluster.Pod, ifName string, dst netip.Addr) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	start := time.Now()
	if err := c.Ping(ctx, from, dst); err != nil {
		return fmt.Errorf("ping from %s to %s (%s of %s on %s): %w", from.Key(), dst, ifName, to.Key(), to.Node, err)
	}
	fmt.Fprintf(out, "ping %s (%s) -> %-14s (%s of %s on %s): reply after %s\n", from.Key(), from.Node, dst, ifName, to.Key(), to.Node,
		time.Since(start).Round(100*time.Microsecond))
	return nil
}

// dirFlag is the --dir flag to repeat in printed commands, empty for the default.
func dirFlag(dir string) string {
	if dir == defaultDir {
		return ""
	}
	return " --dir " + dir
}

// prefixed writes each progress line with prefix.
func prefixed(w io.Writer, prefix string) io.Writer { return prefixWriter{w, prefix} }

type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p prefixWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, p.prefix); err != nil {
		return 0, err
	}
	return p.w.Write(b)
}
