// Package fakedp is an in-memory agent.Dataplane for tests and the simulator. It keeps every network
// namespace as a map of links with their properties, refuses what the kernel refuses where the agent
// can tell (name clashes, a macvlan above its parent's MTU, a route whose gateway is on none of the
// link's subnets, a missing uplink or namespace), and has fault knobs. It passes the same contract
// (agent/dataplanetest) as the netlink adapter. Everything it returns is sorted: no output depends
// on map order.
package fakedp

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
)

// Link is one interface of the fake world. The fields a kind does not use are zero.
type Link struct {
	Name string
	// Kind is "nic", "bridge", "vxlan", "veth", "macvlan" or "vf".
	Kind  string
	MAC   model.MAC
	MTU   int
	Up    bool
	Addrs []netip.Prefix
	// Routes are the routes through the link in its namespace's main table.
	Routes []plan.Route
	// Master is the bridge a node interface is a port of.
	Master string
	// Trunk and VLAN are a vlan link's veth node end's place in the VLAN datapath: the frames its pod
	// sends leave by Trunk tagged VLAN, and Trunk's frames of VLAN for its MAC reach it.
	Trunk string
	VLAN  uint16
	// Parent is a macvlan's parent NIC on the node.
	Parent string
	// VNI, Local, Device and FDB (sorted flood entries) describe a VXLAN device.
	VNI    uint32
	Local  netip.Addr
	Device string
	FDB    []netip.Addr

	peer      *Link  // the other end of a veth
	peerSpace string // the namespace of peer
	vf        *vf    // the VF behind a "vf" link
}

// vf is one VF of a PF: its netdev's original name, holder and what its PF was told.
type vf struct {
	pf     string
	index  int
	netdev string
	holder string
	mac    model.MAC
	vlan   uint16
}

// VFState is what the PF was told about one VF, and who holds it.
type VFState struct {
	PF     string
	Index  int
	Netdev string
	Holder string
	MAC    model.MAC
	VLAN   uint16
}

// node is the key of the node's namespace.
const node = ""

// Fake is the in-memory dataplane. It is safe for concurrent use.
type Fake struct {
	mu     sync.Mutex
	spaces map[string]map[string]*Link
	pfs    map[string][]*vf
	faults map[Op][]error
	nextNS int
	devN   int
	// foreign are namespace files of other types, by path (NewForeign).
	foreign map[string]string
	calls   map[Op]int
}

var _ agent.Dataplane = (*Fake)(nil)

// New returns a fake node with no NICs and no pods.
func New() *Fake {
	return &Fake{
		spaces: map[string]map[string]*Link{node: {}},
		pfs:    map[string][]*vf{},
		faults: map[Op][]error{},
		calls:  map[Op]int{},
	}
}

// AddNIC puts a physical NIC on the node, up.
func (f *Fake) AddNIC(name string, mtu int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.spaces[node][name] = &Link{Name: name, Kind: "nic", MTU: mtu, Up: true}
}

// AddPF puts an SR-IOV PF with n VFs on the node; the VFs' netdevs are "<pf>v<i>". It returns them.
func (f *Fake) AddPF(pf string, n int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.spaces[node][pf] = &Link{Name: pf, Kind: "nic", MTU: 1500, Up: true}
	var names []string
	for i := range n {
		v := &vf{pf: pf, index: i, netdev: fmt.Sprintf("%sv%d", pf, i)}
		f.pfs[pf] = append(f.pfs[pf], v)
		f.spaces[node][v.netdev] = &Link{Name: v.netdev, Kind: "vf", MTU: 1500, vf: v}
		names = append(names, v.netdev)
	}
	return names
}

// NewNetns makes an empty pod namespace and returns its path.
func (f *Fake) NewNetns() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextNS++
	path := fmt.Sprintf("/var/run/netns/fake-%d", f.nextNS)
	f.spaces[path] = map[string]*Link{}
	return path
}

// Gone deletes a pod namespace as the kernel does when its last user leaves: veths in it die with
// their node ends, macvlans die, VF netdevs return to the node (under their name there, or "devN"
// when that is taken on the node).
func (f *Fake) Gone(path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	space, ok := f.spaces[path]
	if !ok || path == node {
		return
	}
	delete(f.spaces, path)
	for _, name := range sortedNames(space) {
		l := space[name]
		switch l.Kind {
		case "veth":
			if l.peer != nil {
				delete(f.spaces[l.peerSpace], l.peer.Name)
			}
		case "vf":
			back := &Link{Name: l.Name, Kind: "vf", MTU: l.MTU, MAC: l.MAC, vf: l.vf}
			if _, taken := f.spaces[node][back.Name]; taken {
				back.Name = fmt.Sprintf("dev%d", f.devN)
				f.devN++
			}
			f.spaces[node][back.Name] = back
		}
	}
}

// Links returns copies of the links in a namespace ("" for the node), sorted by name; nil when the
// namespace does not exist.
func (f *Fake) Links(netns string) []Link {
	f.mu.Lock()
	defer f.mu.Unlock()
	space, ok := f.spaces[netns]
	if !ok {
		return nil
	}
	out := make([]Link, 0, len(space))
	for _, name := range sortedNames(space) {
		out = append(out, space[name].copy())
	}
	return out
}

// Link returns a copy of one link.
func (f *Fake) Link(netns, name string) (Link, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.spaces[netns][name]
	if !ok {
		return Link{}, false
	}
	return l.copy(), true
}

// VFs returns the state of pf's VFs in index order.
func (f *Fake) VFs(pf string) []VFState {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []VFState
	for _, v := range f.pfs[pf] {
		out = append(out, VFState{PF: v.pf, Index: v.index, Netdev: v.netdev, Holder: v.holder, MAC: v.mac, VLAN: v.vlan})
	}
	return out
}

// Calls returns how many times op was called (faulted calls included).
func (f *Fake) Calls(op Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (l *Link) copy() Link {
	c := *l
	c.Addrs = slices.Clone(l.Addrs)
	c.Routes = slices.Clone(l.Routes)
	c.FDB = slices.Clone(l.FDB)
	c.peer, c.vf = nil, nil
	return c
}

func sortedNames(space map[string]*Link) []string {
	names := make([]string, 0, len(space))
	for n := range space {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// VLANPorts returns the sorted "host_if/vlan" of the vlan links whose frames trunk carries.
func (f *Fake) VLANPorts(trunk string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, l := range f.spaces[node] {
		if l.Kind == "veth" && l.Trunk == trunk {
			out = append(out, fmt.Sprintf("%s/%d", l.Name, l.VLAN))
		}
	}
	slices.Sort(out)
	return out
}
