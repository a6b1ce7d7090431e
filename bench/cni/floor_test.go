package cnibench

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// floorRig builds the benchmark pod with nothing but the netlink requests that make its links,
// addresses and routes: no process start, no IPAM, no lookups beyond what the requests need, no
// rollback. No CNI implementation can do less, so its cost is the floor under Knitter's.
type floorRig struct {
	node *netNS
	pod  []attachment
	// bridges holds the index of each node bridge and parent that of the macvlan parent: node
	// plumbing that exists before any pod, as it does on a node for every pod but the first.
	bridges map[string]int
	parent  int
}

func newFloorRig(tb testing.TB, node *netNS, pod []attachment) *floorRig {
	tb.Helper()
	r := &floorRig{node: node, pod: pod, bridges: map[string]int{}}
	for _, a := range pod {
		if a.bridge == "" {
			continue
		}
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: a.bridge, Flags: net.FlagUp}}
		if a.vlan != 0 {
			on := true
			br.VlanFiltering = &on
		}
		if err := node.H.LinkAdd(br); err != nil {
			tb.Fatalf("add bridge %s: %v", a.bridge, err)
		}
		r.bridges[a.bridge] = br.Index
	}
	parent, err := node.H.LinkByName(macvlanParent)
	if err != nil {
		tb.Fatal(err)
	}
	r.parent = parent.Attrs().Index
	return r
}

// hostVeth names the node end of a pod's veth; one pod exists at a time, so names can repeat.
func hostVeth(a attachment) string { return "fl-" + a.ifName }

// add makes every link of the pod: the node side (veth with its peer created straight in the pod,
// on its bridge, VLAN port settings; or the macvlan created straight in the pod), then the pod side
// (address, up, routes).
func (r *floorRig) add(podPath string) error {
	fd, err := netns.GetFromPath(podPath)
	if err != nil {
		return err
	}
	defer fd.Close()
	pod, err := netlink.NewHandleAt(fd, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer pod.Close()
	for _, a := range r.pod {
		if err := r.addNodeSide(a, fd); err != nil {
			return fmt.Errorf("%s: %w", a.ifName, err)
		}
		if err := addPodSide(pod, a); err != nil {
			return fmt.Errorf("%s: %w", a.ifName, err)
		}
	}
	return nil
}

func (r *floorRig) addNodeSide(a attachment, pod netns.NsHandle) error {
	if a.bridge == "" {
		return r.node.H.LinkAdd(&netlink.Macvlan{
			LinkAttrs: netlink.LinkAttrs{
				Name: a.ifName, ParentIndex: r.parent, HardwareAddr: a.mac, Namespace: netlink.NsFd(pod),
			},
			Mode: netlink.MACVLAN_MODE_BRIDGE,
		})
	}
	veth := &netlink.Veth{
		LinkAttrs:        netlink.LinkAttrs{Name: hostVeth(a), MasterIndex: r.bridges[a.bridge], Flags: net.FlagUp},
		PeerName:         a.ifName,
		PeerHardwareAddr: a.mac,
		PeerNamespace:    netlink.NsFd(pod),
	}
	if err := r.node.H.LinkAdd(veth); err != nil {
		return err
	}
	if a.vlan == 0 {
		return nil
	}
	// A new port joins the default VLAN 1 as its PVID; the pod's port must be in its VLAN only.
	if err := r.node.H.BridgeVlanDel(veth, 1, true, true, false, true); err != nil {
		return err
	}
	return r.node.H.BridgeVlanAdd(veth, a.vlan, true, true, false, true)
}

func addPodSide(pod *netlink.Handle, a attachment) error {
	link, err := pod.LinkByName(a.ifName)
	if err != nil {
		return err
	}
	ip := &net.IPNet{IP: a.addr.AsSlice(), Mask: net.CIDRMask(a.subnet.Bits(), a.addr.BitLen())}
	if err := pod.AddrAdd(link, &netlink.Addr{IPNet: ip}); err != nil {
		return err
	}
	if err := pod.LinkSetUp(link); err != nil {
		return err
	}
	for _, rt := range a.routes {
		dst := &net.IPNet{IP: rt.dst.Addr().AsSlice(), Mask: net.CIDRMask(rt.dst.Bits(), rt.dst.Addr().BitLen())}
		if err := pod.RouteAdd(&netlink.Route{LinkIndex: link.Attrs().Index, Dst: dst, Gw: rt.gw.AsSlice()}); err != nil {
			return fmt.Errorf("route %s via %s: %w", rt.dst, rt.gw, err)
		}
	}
	return nil
}

// del deletes the pod's links one request each, as the reference plugins do; a veth's node end
// goes with its pod end.
func (r *floorRig) del(podPath string) error {
	fd, err := netns.GetFromPath(podPath)
	if err != nil {
		return err
	}
	defer fd.Close()
	pod, err := netlink.NewHandleAt(fd, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer pod.Close()
	var errs []error
	for _, a := range slices.Backward(r.pod) {
		if err := pod.LinkDel(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: a.ifName}}); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a.ifName, err))
		}
	}
	return errors.Join(errs...)
}

// cycle adds a pod, checks it exactly (addresses and MACs are the floor's own), deletes it and
// checks that nothing is left.
func (r *floorRig) cycle(tb testing.TB) {
	tb.Helper()
	pod := newPod(tb)
	defer func() {
		if err := pod.Close(); err != nil {
			tb.Error(err)
		}
	}()
	if err := r.add(pod.Path()); err != nil {
		tb.Fatal(err)
	}
	if err := checkPod(r.node, pod, r.pod, true); err != nil {
		tb.Fatalf("after ADD: %v", err)
	}
	if err := r.del(pod.Path()); err != nil {
		tb.Fatal(err)
	}
	if err := checkPodGone(r.node, pod); err != nil {
		tb.Fatal(err)
	}
}

func TestBareNetlinkFloor(t *testing.T) {
	node, pod := setup(t)
	r := newFloorRig(t, node, pod)
	r.cycle(t)
	r.cycle(t)
}

// BenchmarkBareNetlinkFloor times the floor's pod ADD and DEL: the same eth0 and three extra NICs
// as BenchmarkReferencePluginsADD, built with bare netlink requests from addresses known
// beforehand. Each iteration is one pod in a fresh namespace, made and removed untimed; the first,
// checked by reading netlink back, runs before timing starts.
func BenchmarkBareNetlinkFloor(b *testing.B) {
	node, pod := setup(b)
	r := newFloorRig(b, node, pod)
	r.cycle(b)
	var add, del latencies
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		p := newPod(b)
		b.StartTimer()

		start := time.Now()
		if err := r.add(p.Path()); err != nil {
			b.Fatal(err)
		}
		added := time.Now()
		if err := r.del(p.Path()); err != nil {
			b.Fatal(err)
		}
		add = append(add, added.Sub(start))
		del = append(del, time.Since(added))

		b.StopTimer()
		if err := p.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	add.report(b, "ADD")
	del.report(b, "DEL")
	reportTagged(b, pod)
}
