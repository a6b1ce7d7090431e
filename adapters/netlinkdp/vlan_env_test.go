package netlinkdp_test

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"os"
	"slices"
	"testing"

	"github.com/knitter-cni/knitter/adapters/vlanbpf"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// pinDir is a private bpffs for the VLAN datapath of every test node (each gets its own directory
// in it), so that tests never touch the machine's /sys/fs/bpf.
var pinDir string

func TestMain(m *testing.M) {
	os.Exit(runWithBPFFS(m))
}

func runWithBPFFS(m *testing.M) int {
	if !isRoot() {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "knitter-bpffs-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.Remove(dir)
	if err := unix.Mount("bpf", dir, "bpf", 0, "mode=0700"); err != nil {
		fmt.Fprintln(os.Stderr, "mounting a bpffs for the tests:", err)
		return 1
	}
	defer unix.Unmount(dir, unix.MNT_DETACH)
	pinDir = dir
	return m.Run()
}

// vlanPorts reads the VLAN datapath of the node at path back, as another agent process would: the
// sorted "host_if/vlan" of its ports on trunk. It also checks what the datapath promises of the
// trunk: its program is attached while it has ports, and no program is when it has none.
func vlanPorts(path, trunk string) ([]string, error) {
	d := vlanbpf.New(vlanbpf.Options{Netns: path, PinDir: pinDir})
	defer d.Close()
	ports, err := d.Ports()
	if err != nil {
		return nil, err
	}
	return withHandle(path, func(h *netlink.Handle) ([]string, error) {
		t, err := h.LinkByName(trunk)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, p := range ports {
			if p.TrunkIndex != t.Attrs().Index {
				continue
			}
			host, err := h.LinkByIndex(p.HostIndex)
			if err != nil {
				return nil, fmt.Errorf("port ifindex %d: %w", p.HostIndex, err)
			}
			out = append(out, fmt.Sprintf("%s/%d", host.Attrs().Name, p.VLAN))
		}
		slices.Sort(out)
		progs, err := d.IngressPrograms(t.Attrs().Index)
		if err != nil {
			return nil, err
		}
		if want := min(len(out), 1); len(progs) != want {
			return nil, fmt.Errorf("trunk %s has %d ports and %d TCX ingress programs, want %d", trunk, len(out), len(progs), want)
		}
		return out, nil
	})
}

// nodePins lists what the VLAN datapath of the node at path has pinned.
func nodePins(path string) ([]string, error) {
	d := vlanbpf.New(vlanbpf.Options{Netns: path, PinDir: pinDir})
	defer d.Close()
	st, err := d.Status()
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(st.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names, err
}

// staticNeighbour adds a permanent neighbour entry ip -> hw on ifname in the namespace at path.
func staticNeighbour(path, ifname string, ip netip.Addr, hw net.HardwareAddr) error {
	_, err := withHandle(path, func(h *netlink.Handle) (struct{}, error) {
		l, err := h.LinkByName(ifname)
		if err != nil {
			return struct{}{}, err
		}
		return struct{}{}, h.NeighSet(&netlink.Neigh{LinkIndex: l.Attrs().Index, State: netlink.NUD_PERMANENT,
			IP: ip.AsSlice(), HardwareAddr: hw, Family: netlink.FAMILY_V4})
	})
	return err
}

// setLinkDown sets ifname down in the namespace at path.
func setLinkDown(path, ifname string) error {
	_, err := withHandle(path, func(h *netlink.Handle) (struct{}, error) {
		l, err := h.LinkByName(ifname)
		if err != nil {
			return struct{}{}, err
		}
		return struct{}{}, h.LinkSetDown(l)
	})
	return err
}

func TestDatapaths(t *testing.T) {
	if !isRoot() {
		t.Skip("needs root to load BPF programs")
	}
	w := newWorld()
	p, err := w.netns()
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	dp, err := newPoolless(p)
	if err != nil {
		t.Fatal(err)
	}
	defer dp.Close()
	got := map[string]string{}
	for _, d := range dp.Datapaths() {
		got[d.Type] = d.Datapath + " " + d.Unavailable
	}
	want := map[string]string{"overlay": "bridge+vxlan ", "vlan": "tc-ebpf ", "macvlan": "macvlan ",
		"sriov": "vf no VF pool: start knitter-agent with --sriov-sysfs-root"}
	if !maps.Equal(got, want) {
		t.Fatalf("Datapaths = %v, want %v", got, want)
	}
}
