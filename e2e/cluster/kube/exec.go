package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"

	"github.com/knitter-cni/knitter/e2e/cluster"
)

// Exec implements cluster.Cluster: `kubectl exec` into the pod's container.
func (c *Cluster) Exec(ctx context.Context, p *cluster.Pod, argv ...string) (string, error) {
	req := c.cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(p.Namespace).Name(p.Name).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: "pod", Command: argv, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	ex, err := remotecommand.NewSPDYExecutor(c.rest, "POST", req.URL())
	if err != nil {
		return "", err
	}
	// Two buffers: the executor copies stdout and stderr on goroutines of their own.
	var stdout, stderr bytes.Buffer
	err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		return stdout.String() + stderr.String(), fmt.Errorf("%v in pod %s: %w", argv, p.Key(), err)
	}
	return stdout.String() + stderr.String(), nil
}

// Ping implements cluster.Cluster with the test image's ping.
func (c *Cluster) Ping(ctx context.Context, from *cluster.Pod, dst netip.Addr) error {
	wait := 3 * time.Second
	if d, ok := ctx.Deadline(); ok {
		wait = time.Until(d) - 200*time.Millisecond
	}
	if wait < 200*time.Millisecond {
		wait = 200 * time.Millisecond
	}
	out, err := c.Exec(ctx, from, "ping", "-W", strconv.FormatFloat(wait.Seconds(), 'f', 1, 64), dst.String())
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(out))
	}
	return nil
}

// ipLink is one entry of `ip -j addr`.
type ipLink struct {
	IfName   string `json:"ifname"`
	Address  string `json:"address"`
	MTU      int    `json:"mtu"`
	AddrInfo []struct {
		Local     string `json:"local"`
		PrefixLen int    `json:"prefixlen"`
	} `json:"addr_info"`
}

// execInterfaces reads the pod's interfaces with `ip -j addr` in the pod: loopback and link-local
// addresses left out, sorted by name, IPv4 first, as cluster.Interface says.
//
// The test image's `ip -j addr` always prints a JSON array; an exec that succeeds with no output at
// all lost its stdout on the way (seen once in 200 pods on a machine at load 37), and is made again,
// at most execAttempts times.
func (c *Cluster) execInterfaces(ctx context.Context, p *cluster.Pod) ([]cluster.Interface, error) {
	for attempt := 1; ; attempt++ {
		out, err := c.Exec(ctx, p, "ip", "-j", "addr")
		if err != nil {
			return nil, fmt.Errorf("%w: %s", err, out)
		}
		if strings.TrimSpace(out) != "" || attempt == execAttempts {
			return parseIPAddr([]byte(out))
		}
	}
}

// execAttempts bounds the execs of `ip -j addr` whose output came back empty.
const execAttempts = 3

func parseIPAddr(raw []byte) ([]cluster.Interface, error) {
	var links []ipLink
	if err := json.Unmarshal(raw, &links); err != nil {
		return nil, fmt.Errorf("ip -j addr: %w: %s", err, raw)
	}
	var out []cluster.Interface
	for _, l := range links {
		if l.IfName == "lo" {
			continue
		}
		itf := cluster.Interface{Name: l.IfName, MAC: l.Address, MTU: l.MTU}
		for _, a := range l.AddrInfo {
			ip, err := netip.ParseAddr(a.Local)
			if err != nil || ip.IsLinkLocalUnicast() {
				continue
			}
			itf.Addrs = append(itf.Addrs, netip.PrefixFrom(ip, a.PrefixLen))
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
	slices.SortFunc(out, func(a, b cluster.Interface) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
