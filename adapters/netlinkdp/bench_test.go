package netlinkdp_test

import (
	"net"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/agent/dataplanetest"
	"github.com/knitter-cni/knitter/core/plan"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// benchPod is the benchmarks' pod: eth0 on an overlay (IPv4 and IPv6, the default routes), a second
// overlay, a vlan port (VLAN 100, on the eBPF VLAN datapath) and a macvlan.
func benchPod(netnsPath string, vlan uint16) plan.Pod {
	eth0 := overlay("bench", "eth0", 101, "10.1.0.5/24", "fd01::5/64")
	eth0.Routes = []plan.Route{route("0.0.0.0/0", "10.1.0.1"), route("::/0", "fd01::1")}
	net3 := macvlan("bench", "net3", "10.2.0.5/24")
	net3.Routes = []plan.Route{route("10.20.0.0/16", "10.2.0.1")}
	return podPlan("bench", netnsPath, eth0, overlay("bench", "net1", 102, "10.4.0.5/24"),
		vlanL("bench", "net2", vlan, "10.3.0.5/24"), net3)
}

// benchSetup makes a node, a pod namespace and the pod's plan, and runs one Attach and Detach so
// that the shared node plumbing exists, as it does on a node for every pod but the first.
func benchSetup(b *testing.B) (*testNode, plan.Pod) {
	if !isRoot() {
		b.Skip("needs root to make network namespaces")
	}
	const vlan = 100
	w := newWorld()
	n, err := newTestNode(w, filepath.Join(b.TempDir(), "sys"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		n.dp.Close()
		if err := w.close(n.path); err != nil {
			b.Error(err)
		}
	})
	p, err := w.netns()
	if err != nil {
		b.Fatal(err)
	}
	pod := benchPod(p, vlan)
	if err := n.dp.Attach(ctx, pod); err != nil {
		b.Fatal(err)
	}
	if err := n.dp.Detach(ctx, pod); err != nil {
		b.Fatal(err)
	}
	return n, pod
}

// latencies collects per-operation durations and reports their percentiles in milliseconds.
type latencies map[string][]time.Duration

func (l latencies) time(name string, f func() error) error {
	start := time.Now()
	err := f()
	l[name] = append(l[name], time.Since(start))
	return err
}

// pct returns the p-th percentile of name's durations in milliseconds.
func (l latencies) pct(name string, p float64) float64 {
	d := slices.Sorted(slices.Values(l[name]))
	return float64(d[min(len(d)-1, int(p*float64(len(d))))].Microseconds()) / 1000
}

func (l latencies) p50(name string) float64 { return l.pct(name, 0.50) }

func (l latencies) report(b *testing.B) {
	for name := range l {
		b.ReportMetric(l.pct(name, 0.50), name+"-p50-ms")
		b.ReportMetric(l.pct(name, 0.99), name+"-p99-ms")
	}
}

// BenchmarkAttachDetach4Links is the dataplane's Attach and Detach of a 4-link pod in real
// namespaces, interleaved with the floor (floorAttach, floorDetach: only the netlink calls that build
// and remove the same links, with no lookups, checks or rollback bookkeeping) on a second pod of the
// same node, so that both see the same machine. It reports both and the ratios of the medians.
func BenchmarkAttachDetach4Links(b *testing.B) {
	n, pod := benchSetup(b)
	floorNS, err := n.w.netns()
	if err != nil {
		b.Fatal(err)
	}
	floor := benchPod(floorNS, pod.Links[2].VLAN)
	floor.ContainerID = "floor"
	for i, l := range floor.Links {
		if l.HostIf != "" {
			floor.Links[i].HostIf = plan.HostIfName("floor", l.PodIf)
		}
	}
	fl := newFloor(b, n, floor, true)
	lat := latencies{}
	for b.Loop() {
		if err := lat.time("attach", func() error { return n.dp.Attach(ctx, pod) }); err != nil {
			b.Fatal(err)
		}
		if err := lat.time("detach", func() error { return n.dp.Detach(ctx, pod) }); err != nil {
			b.Fatal(err)
		}
		if err := lat.time("floor-attach", fl.attach); err != nil {
			b.Fatal(err)
		}
		if err := lat.time("floor-detach", fl.detach); err != nil {
			b.Fatal(err)
		}
	}
	lat.report(b)
	b.ReportMetric(lat.p50("attach")/lat.p50("floor-attach"), "attach/floor-p50")
	b.ReportMetric(lat.p50("detach")/lat.p50("floor-detach"), "detach/floor-p50")
}

// BenchmarkFloor4LinksPerLinkDelete is the floor when each link is deleted with its own request, as
// most CNI plugins do: the kernel then waits for an RCU grace period per link, where the dataplane
// deletes an attachment's interfaces with one request for their interface group.
func BenchmarkFloor4LinksPerLinkDelete(b *testing.B) {
	n, pod := benchSetup(b)
	fl := newFloor(b, n, pod, false)
	lat := latencies{}
	for b.Loop() {
		if err := lat.time("floor-attach", fl.attach); err != nil {
			b.Fatal(err)
		}
		if err := lat.time("floor-detach", fl.detach); err != nil {
			b.Fatal(err)
		}
	}
	lat.report(b)
}

// floorGroup is the interface group the floor puts the pod's interfaces in.
const floorGroup = 4242

// floor builds and removes a pod's links with bare netlink calls.
type floor struct {
	node    *netlink.Handle
	pod     plan.Pod
	bridges map[string]netlink.Link
	parent  netlink.Link
	byGroup bool
}

func newFloor(b *testing.B, n *testNode, pod plan.Pod, byGroup bool) *floor {
	node, err := handle(n.path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(node.Close)
	f := &floor{node: node, pod: pod, bridges: map[string]netlink.Link{}, byGroup: byGroup}
	for _, l := range pod.Links {
		if l.Bridge != "" {
			if f.bridges[l.Bridge], err = node.LinkByName(l.Bridge); err != nil {
				b.Fatal(err)
			}
		}
	}
	if f.parent, err = node.LinkByName(dataplanetest.Parent); err != nil {
		b.Fatal(err)
	}
	return f
}

func (f *floor) attach() error { return floorAttach(f.node, f.pod, f.bridges, f.parent, f.byGroup) }
func (f *floor) detach() error { return floorDetach(f.node, f.pod, f.byGroup) }

func floorAttach(node *netlink.Handle, pod plan.Pod, bridges map[string]netlink.Link, parent netlink.Link, byGroup bool) error {
	fd, err := netns.GetFromPath(pod.Netns)
	if err != nil {
		return err
	}
	defer fd.Close()
	h, err := netlink.NewHandleAt(fd, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer h.Close()
	for _, l := range pod.Links {
		attrs := netlink.NewLinkAttrs()
		attrs.MTU = l.MTU
		if l.HostIf != "" {
			attrs.Name = l.HostIf
			veth := &netlink.Veth{LinkAttrs: attrs, PeerName: l.PodIf, PeerNamespace: netlink.NsFd(fd), PeerMTU: uint32(l.MTU), PeerHardwareAddr: l.MAC[:]}
			if err := node.LinkAdd(veth); err != nil {
				return err
			}
			// A vlan link is a veth on no bridge (its tagging is the eBPF datapath's map entry,
			// which the floor leaves out, so the floor is a little lower than the true minimum).
			if l.Bridge != "" {
				if err := node.LinkSetMaster(veth, bridges[l.Bridge]); err != nil {
					return err
				}
			}
			if err := node.LinkSetUp(veth); err != nil {
				return err
			}
		} else {
			attrs.Name, attrs.ParentIndex, attrs.HardwareAddr, attrs.Namespace = l.PodIf, parent.Attrs().Index, l.MAC[:], netlink.NsFd(fd)
			if byGroup {
				attrs.Group = floorGroup
			}
			if err := node.LinkAdd(&netlink.Macvlan{LinkAttrs: attrs, Mode: netlink.MACVLAN_MODE_BRIDGE}); err != nil {
				return err
			}
		}
		link, err := h.LinkByName(l.PodIf)
		if err != nil {
			return err
		}
		if byGroup && l.HostIf != "" {
			if err := h.LinkSetGroup(link, floorGroup); err != nil {
				return err
			}
		}
		if err := h.LinkSetUp(link); err != nil {
			return err
		}
		for _, p := range l.Addrs {
			a := addrOf(p)
			if p.Addr().Is6() {
				a.Flags = unix.IFA_F_NODAD
			}
			if err := h.AddrAdd(link, a); err != nil {
				return err
			}
		}
		for _, r := range l.Routes {
			nr := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: addrOf(r.Dst).IPNet, Gw: net.IP(r.Gateway.AsSlice())}
			if err := h.RouteAdd(nr); err != nil {
				return err
			}
		}
	}
	return nil
}

func floorDetach(node *netlink.Handle, pod plan.Pod, byGroup bool) error {
	fd, err := netns.GetFromPath(pod.Netns)
	if err != nil {
		return err
	}
	defer fd.Close()
	if byGroup {
		sock, err := nl.GetNetlinkSocketAt(fd, netns.None(), unix.NETLINK_ROUTE)
		if err != nil {
			return err
		}
		defer sock.Close()
		req := nl.NewNetlinkRequest(unix.RTM_DELLINK, unix.NLM_F_ACK)
		req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: {Socket: sock}}
		req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
		req.AddData(nl.NewRtAttr(unix.IFLA_GROUP, nl.Uint32Attr(floorGroup)))
		_, err = req.Execute(unix.NETLINK_ROUTE, 0)
		return err
	}
	h, err := netlink.NewHandleAt(fd, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer h.Close()
	for _, l := range pod.Links {
		name, in := l.HostIf, node
		if name == "" {
			name, in = l.PodIf, h
		}
		link, err := in.LinkByName(name)
		if err != nil {
			return err
		}
		if err := in.LinkDel(link); err != nil {
			return err
		}
	}
	return nil
}
