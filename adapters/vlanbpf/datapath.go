package vlanbpf

import (
	"fmt"
	"net"
	"path/filepath"
	"sync"

	"github.com/containernetworking/plugins/pkg/ns"
	"golang.org/x/sys/unix"
)

// DefaultPinDir is where the datapath pins its maps and links unless Options.PinDir says otherwise.
const DefaultPinDir = "/sys/fs/bpf/knitter"

// Options configure a Datapath.
type Options struct {
	// Netns is the path of the node's network namespace, where the trunks and pod veths live. Empty
	// means the namespace of the caller (the agent's).
	Netns string
	// PinDir is a directory on a bpffs; each node namespace gets a directory in it. Empty means
	// DefaultPinDir, with bpffs mounted at /sys/fs/bpf if it is not yet.
	PinDir string
}

// Port is one pod veth on a VLAN of a trunk. Indexes are ifindexes in the node namespace.
type Port struct {
	// HostIf and HostIndex are the pod veth's node end.
	HostIf    string
	HostIndex int
	// Trunk and TrunkIndex are the trunk NIC.
	Trunk      string
	TrunkIndex int
	// VLAN is the VLAN id, 1-4094.
	VLAN uint16
	// MAC is the pod's MAC (the pod end of the veth).
	MAC net.HardwareAddr
}

func (p Port) value() portValue {
	return portValue{Trunk: uint32(p.TrunkIndex), VID: p.VLAN, MAC: macOf(p.MAC)}
}

// Datapath is the VLAN datapath of one node. It is safe for concurrent use.
type Datapath struct {
	netns string
	root  string

	mu sync.Mutex
	// dir is this node's directory under root; empty until first needed.
	dir string
	// s is the loaded state, nil when the node has no ports (or none loaded yet).
	s *state
}

// New returns the datapath of the node namespace opts.Netns. It loads nothing until a port needs it.
func New(opts Options) *Datapath {
	root := opts.PinDir
	if root == "" {
		root = DefaultPinDir
	}
	return &Datapath{netns: opts.Netns, root: root}
}

// Close releases the process's handles. Pinned maps and programs stay and keep forwarding.
func (d *Datapath) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.s != nil {
		d.s.close()
		d.s = nil
	}
	return nil
}

// do runs f in the node namespace: TCX attachment and program queries name devices by ifindex,
// which the kernel resolves in the calling thread's namespace.
func (d *Datapath) do(f func() error) error {
	if d.netns == "" {
		return f()
	}
	return ns.WithNetNSPath(d.netns, func(ns.NetNS) error { return f() })
}

// nodeDir returns this node's pin directory, named by the namespace's cookie (unique for the
// machine's uptime, unlike inode numbers). Called in the node namespace with d.mu held.
func (d *Datapath) nodeDir() (string, error) {
	if d.dir != "" {
		return d.dir, nil
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return "", fmt.Errorf("opening a socket in the node namespace: %w", err)
	}
	defer unix.Close(fd)
	cookie, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_NETNS_COOKIE)
	if err != nil {
		return "", fmt.Errorf("reading the node namespace's cookie (SO_NETNS_COOKIE, Linux 5.14+): %w", err)
	}
	d.dir = filepath.Join(d.root, fmt.Sprintf("netns-%d", cookie))
	return d.dir, nil
}

// loaded returns the node's state: loaded from its pins, or created when create is set; nil when
// nothing is pinned and create is not set. Called in the node namespace with d.mu held.
func (d *Datapath) loaded(create bool) (*state, error) {
	if d.s != nil && pinned(d.s.dir) {
		return d.s, nil
	}
	if d.s != nil { // another process removed the node's state (its last port left)
		d.s.close()
		d.s = nil
	}
	if err := ensureBPFFS(d.root); err != nil {
		return nil, err
	}
	dir, err := d.nodeDir()
	if err != nil {
		return nil, err
	}
	if !create && !pinned(dir) {
		return nil, nil
	}
	s, err := load(dir)
	if err != nil {
		return nil, err
	}
	d.s = s
	return s, nil
}
