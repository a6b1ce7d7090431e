package sriov

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/knitter-cni/knitter/core/model"
)

// VF is one virtual function of a physical function.
type VF struct {
	// PF is the physical function's netdev name on the node.
	PF string `json:"pf"`
	// Index is the VF number on its PF (virtfn<Index>), the number PF-side netlink calls take.
	Index int `json:"index"`
	// PCI is the VF's PCI address, e.g. "0000:03:02.1".
	PCI string `json:"pci"`
	// Netdev is the VF's netdev name on the node: its current name when listed, its original name
	// (the one to restore when it is given back) when held.
	Netdev string `json:"netdev"`
	// MAC is the netdev's MAC address when it was taken, restored when it is given back, so that a
	// pod's MAC does not stay on a free VF (and on the next pod that gets it); empty when unknown.
	MAC string `json:"mac,omitempty"`
}

// List returns the enabled VFs of pf in index order. A VF whose netdev is not in the node's namespace
// (it sits in a pod, or has no driver) has an empty Netdev.
func (p *Pool) List(pf string) ([]VF, error) {
	dev := filepath.Join(p.root, "class", "net", pf, "device")
	if _, err := os.Stat(filepath.Join(p.root, "class", "net", pf)); err != nil {
		return nil, model.Errorf(model.CodeNotFound, "uplink",
			"SR-IOV PF %q is not a network device of this node (%v); set the network's physical_network to a PF such as \"ens1f0\"", pf, err)
	}
	raw, err := os.ReadFile(filepath.Join(dev, "sriov_numvfs"))
	if err != nil {
		return nil, model.Invalid("uplink", "%q is not an SR-IOV PF (%v); use a NIC that has VFs", pf, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || n < 0 {
		return nil, fmt.Errorf("reading %s: %q is not a VF count", filepath.Join(dev, "sriov_numvfs"), raw)
	}
	vfs := make([]VF, 0, n)
	for i := range n {
		pci, err := filepath.EvalSymlinks(filepath.Join(dev, "virtfn"+strconv.Itoa(i)))
		if err != nil {
			return nil, fmt.Errorf("resolving VF %d of PF %s: %w", i, pf, err)
		}
		netdev, err := netdevOf(pci)
		if err != nil {
			return nil, fmt.Errorf("reading the netdev of VF %d of PF %s: %w", i, pf, err)
		}
		vfs = append(vfs, VF{PF: pf, Index: i, PCI: filepath.Base(pci), Netdev: netdev})
	}
	return vfs, nil
}

// CurrentNetdev returns the name the VF's netdev has on the node now, or "" when it is not in the
// node's namespace. A VF that comes back from a deleted namespace may carry the pod's interface name
// or a kernel-made "devN" instead of its original name.
func (p *Pool) CurrentNetdev(vf VF) (string, error) {
	vfs, err := p.List(vf.PF)
	if err != nil {
		return "", err
	}
	for _, v := range vfs {
		if v.Index == vf.Index {
			return v.Netdev, nil
		}
	}
	return "", nil
}

// netdevOf returns the (first, in name order) netdev under a PCI device's net directory.
func netdevOf(pciDir string) (string, error) {
	entries, err := os.ReadDir(filepath.Join(pciDir, "net"))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if len(entries) == 0 {
		return "", nil
	}
	return entries[0].Name(), nil
}
