package fakedp

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Host is one node of a simulated cluster: its name, its VTEP and its in-memory dataplane. The
// hosts given to Reach share one underlay: every host's NIC of one name is on one L2 wire (the eth1
// of every node is one trunk, the eth2 of every node one macvlan parent segment), and the VTEPs
// reach each other.
type Host struct {
	Name string
	VTEP netip.Addr
	DP   *Fake
}

// Reach computes whether an ICMP echo from the pod namespace netns on host from to dst is answered,
// from the links the dataplanes hold: nil if it is, else an error saying why not. Two pod
// interfaces reach each other when
//
//   - the source has dst on-link (one of its interface's subnets holds dst; the simulated network
//     has no routers, so a destination behind a gateway is not reached),
//   - an interface that is up holds dst, and has the source's address on-link for the answer,
//   - both are on one L2 segment: veths on bridges whose VXLAN devices have the same VNI (on two
//     hosts, each device floods to the other host's VTEP, in both directions, since the answer
//     floods too), veths on the same trunk NIC with the same VLAN, macvlans on the same parent NIC,
//     or VFs of the same PF with the same VLAN;
//   - and every link on the way is up: the pod interfaces, the veths' node ends, the bridges, the
//     VXLAN devices and the NICs.
//
// A VNI or VLAN mix-up (a pod plumbed into another network's segment) therefore shows as no reach.
func Reach(hosts []Host, from, netns string, dst netip.Addr) error {
	_, err := ReachWho(hosts, from, netns, dst)
	return err
}

// Endpoint is one pod interface: its host, namespace and name.
type Endpoint struct {
	Host, Netns, Interface string
}

// ReachWho is Reach that also says which interface answers (the source's own when dst is one of
// its addresses).
func ReachWho(hosts []Host, from, netns string, dst netip.Addr) (Endpoint, error) {
	return Snapshot(hosts).Reach(from, netns, dst)
}

// Net is the pod interfaces of some hosts as Snapshot found them, for many Reach questions.
type Net struct {
	hosts []Host
	all   []port
}

// Snapshot reads every pod interface of hosts and the segment it is plugged into.
func Snapshot(hosts []Host) *Net {
	n := &Net{hosts: hosts}
	for i, h := range hosts {
		n.all = append(n.all, h.DP.ports(i)...)
	}
	return n
}

// Reach is ReachWho on the snapshot.
func (n *Net) Reach(from, netns string, dst netip.Addr) (Endpoint, error) {
	hosts, all := n.hosts, n.all
	src := slices.IndexFunc(hosts, func(h Host) bool { return h.Name == from })
	if src < 0 {
		return Endpoint{}, fmt.Errorf("no host %q", from)
	}
	var mine []port
	for _, p := range all {
		if p.host == src && p.netns == netns {
			mine = append(mine, p)
		}
	}
	if len(mine) == 0 {
		return Endpoint{}, fmt.Errorf("network namespace %s on %s has no interfaces", netns, from)
	}
	for _, p := range mine {
		if slices.ContainsFunc(p.addrs, func(a netip.Prefix) bool { return a.Addr() == dst }) {
			return Endpoint{Host: from, Netns: netns, Interface: p.name}, nil // its own address
		}
	}
	out, srcAddr, ok := egress(mine, dst)
	if !ok {
		for _, p := range mine {
			for _, r := range p.routes {
				if r.gw.IsValid() && r.dst.Contains(dst) {
					return Endpoint{}, fmt.Errorf("%s is off-link from %s on %s: its route goes via gateway %s on %s, and the simulated network has no routers", dst, netns, from, r.gw, p.name)
				}
			}
		}
		return Endpoint{}, fmt.Errorf("no interface of %s on %s has %s on-link, and no route leads there", netns, from, dst)
	}
	if out.down != "" {
		return Endpoint{}, fmt.Errorf("%s's way to %s is down: %s", netns, dst, out.down)
	}
	var why []string
	for _, p := range all {
		if !slices.ContainsFunc(p.addrs, func(a netip.Prefix) bool { return a.Addr() == dst }) {
			continue
		}
		where := fmt.Sprintf("%s in %s on %s", p.name, p.netns, hosts[p.host].Name)
		switch {
		case p.down != "":
			why = append(why, fmt.Sprintf("%s holds it, but %s", where, p.down))
		case !slices.ContainsFunc(p.addrs, func(a netip.Prefix) bool { return a.Masked().Contains(srcAddr) }):
			why = append(why, fmt.Sprintf("%s holds it, but has the source %s off-link", where, srcAddr))
		default:
			if reason := connected(hosts, out, p); reason != "" {
				why = append(why, fmt.Sprintf("%s holds it, but %s", where, reason))
				continue
			}
			return Endpoint{Host: hosts[p.host].Name, Netns: p.netns, Interface: p.name}, nil
		}
	}
	if len(why) == 0 {
		return Endpoint{}, fmt.Errorf("no interface that is up holds %s", dst)
	}
	return Endpoint{}, fmt.Errorf("%s on %s (%s, %s) cannot reach %s: %s", netns, from, out.name, out.seg, dst, strings.Join(why, "; "))
}

// port is one pod interface and the L2 segment it is plugged into, as Reach sees it.
type port struct {
	host        int
	netns, name string
	addrs       []netip.Prefix
	routes      []route
	seg         segment
	// down says which link on the way is down or missing; empty when the way is up.
	down string
	// bridge is an overlay veth's bridge; fdb and dev describe that bridge's VXLAN device.
	bridge string
	fdb    []netip.Addr
}

type route struct {
	dst netip.Prefix
	gw  netip.Addr
}

// segment is an L2 segment: an overlay VNI, a VLAN of a trunk NIC, a macvlan parent, or a VLAN of
// an SR-IOV PF.
type segment struct {
	kind string // "overlay", "vlan", "macvlan", "vf"
	id   uint32 // the VNI or VLAN
	nic  string // the node NIC the segment leaves by (vlan, macvlan, vf)
}

func (s segment) String() string {
	switch s.kind {
	case "overlay":
		return fmt.Sprintf("overlay VNI %d", s.id)
	case "vlan":
		return fmt.Sprintf("VLAN %d on trunk %s", s.id, s.nic)
	case "macvlan":
		return "macvlan on " + s.nic
	case "vf":
		return fmt.Sprintf("VF of %s, VLAN %d", s.nic, s.id)
	}
	return "no segment"
}

// egress picks the interface with dst on-link (the longest prefix wins) and the source address of
// dst's family on it.
func egress(ports []port, dst netip.Addr) (port, netip.Addr, bool) {
	best, bits := -1, -1
	var src netip.Addr
	for i, p := range ports {
		for _, a := range p.addrs {
			if a.Masked().Contains(dst) && a.Bits() > bits {
				best, bits, src = i, a.Bits(), a.Addr()
			}
		}
		for _, r := range p.routes {
			if !r.gw.IsValid() && r.dst.Contains(dst) && r.dst.Bits() > bits {
				for _, a := range p.addrs {
					if a.Addr().Is4() == dst.Is4() {
						best, bits, src = i, r.dst.Bits(), a.Addr()
						break
					}
				}
			}
		}
	}
	if best < 0 {
		return port{}, netip.Addr{}, false
	}
	return ports[best], src, true
}

// connected says why two ports are not on one working segment, or "" when they are.
func connected(hosts []Host, a, b port) string {
	if a.seg.kind != b.seg.kind || a.seg.nic != b.seg.nic || a.seg.id != b.seg.id {
		return fmt.Sprintf("it is on %s, another segment than %s", b.seg, a.seg)
	}
	if a.seg.kind != "overlay" {
		return "" // one NIC name is one wire on every host
	}
	if a.host == b.host {
		if a.bridge != b.bridge {
			return fmt.Sprintf("it is on bridge %s, not %s", b.bridge, a.bridge)
		}
		return ""
	}
	if !slices.Contains(a.fdb, hosts[b.host].VTEP) {
		return fmt.Sprintf("the VXLAN device of VNI %d on %s does not flood to %s's VTEP %s", a.seg.id, hosts[a.host].Name, hosts[b.host].Name, hosts[b.host].VTEP)
	}
	if !slices.Contains(b.fdb, hosts[a.host].VTEP) {
		return fmt.Sprintf("the answer cannot come back: the VXLAN device of VNI %d on %s does not flood to %s's VTEP %s", a.seg.id, hosts[b.host].Name, hosts[a.host].Name, hosts[a.host].VTEP)
	}
	return ""
}

// ports lists the interfaces of every pod namespace with the segment each is plugged into.
func (f *Fake) ports(host int) []port {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []port
	var spaces []string
	for path := range f.spaces {
		if path != node {
			spaces = append(spaces, path)
		}
	}
	slices.Sort(spaces)
	for _, path := range spaces {
		space := f.spaces[path]
		for _, name := range sortedNames(space) {
			l := space[name]
			p := port{host: host, netns: path, name: l.Name, addrs: slices.Clone(l.Addrs)}
			for _, r := range l.Routes {
				p.routes = append(p.routes, route{dst: r.Dst, gw: r.Gateway})
			}
			f.plug(&p, l)
			out = append(out, p)
		}
	}
	return out
}

// plug finds the segment of a pod interface and the first link on its way that is down.
func (f *Fake) plug(p *port, l *Link) {
	downIf := func(cond bool, format string, args ...any) {
		if cond && p.down == "" {
			p.down = fmt.Sprintf(format, args...)
		}
	}
	downIf(!l.Up, "interface %s is down", l.Name)
	nic := func(name string) {
		n := f.spaces[node][name]
		downIf(n == nil, "the node has no NIC %s", name)
		downIf(n != nil && !n.Up, "NIC %s is down", name)
	}
	switch l.Kind {
	case "veth":
		host := l.peer
		if host == nil {
			downIf(true, "veth %s has no node end", l.Name)
			return
		}
		downIf(!host.Up, "its node end %s is down", host.Name)
		switch {
		case host.Master != "":
			br := f.spaces[node][host.Master]
			downIf(br == nil || !br.Up, "bridge %s is down or missing", host.Master)
			p.bridge = host.Master
			var dev *Link
			for _, name := range sortedNames(f.spaces[node]) {
				if d := f.spaces[node][name]; d.Kind == "vxlan" && d.Master == host.Master {
					dev = d
					break
				}
			}
			if dev == nil {
				downIf(true, "bridge %s has no VXLAN device", host.Master)
				p.seg = segment{kind: "overlay"}
				return
			}
			downIf(!dev.Up, "VXLAN device %s is down", dev.Name)
			if dev.Device != "" {
				nic(dev.Device)
			}
			p.seg, p.fdb = segment{kind: "overlay", id: dev.VNI}, slices.Clone(dev.FDB)
		case host.Trunk != "":
			nic(host.Trunk)
			p.seg = segment{kind: "vlan", id: uint32(host.VLAN), nic: host.Trunk}
		default:
			downIf(true, "its node end %s is on no bridge and no trunk", host.Name)
		}
	case "macvlan":
		nic(l.Parent)
		p.seg = segment{kind: "macvlan", nic: l.Parent}
	case "vf":
		if l.vf == nil {
			downIf(true, "VF %s has no PF", l.Name)
			return
		}
		nic(l.vf.pf)
		p.seg = segment{kind: "vf", id: uint32(l.vf.vlan), nic: l.vf.pf}
	default:
		downIf(true, "%s is a %s, which is on no segment", l.Name, l.Kind)
	}
}

// SetUp sets a link up or down, as `ip link set` does; false when netns ("" for the node) has no
// link called name.
func (f *Fake) SetUp(netns, name string, up bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.spaces[netns][name]
	if ok {
		l.Up = up
	}
	return ok
}

// SetMaster moves a node link onto another bridge ("" for none), as a datapath bug that plugs a
// pod into another network's segment would; false when the node has no link called name.
func (f *Fake) SetMaster(name, bridge string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.spaces[node][name]
	if ok {
		l.Master = bridge
	}
	return ok
}

// SetVLAN retags a vlan port's node end, as a datapath bug that tags a pod's frames with another
// network's VLAN would; false when the node has no link called name.
func (f *Fake) SetVLAN(name string, vlan uint16) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.spaces[node][name]
	if ok {
		l.VLAN = vlan
	}
	return ok
}
