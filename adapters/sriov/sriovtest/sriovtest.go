// Package sriovtest builds fake SR-IOV sysfs trees and records VF configuration, for tests of code
// that uses package sriov on machines without SR-IOV hardware.
package sriovtest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/knitter-cni/knitter/adapters/sriov"
)

// WriteTree adds PF pf to the sysfs tree at root with one VF per name in vfNetdevs, laid out as the
// kernel does: class/net/<pf>/device is a symlink into devices/, and virtfn<N> points at a sibling PCI
// device whose net/ directory holds the VF's netdev. An empty name makes a VF without a netdev in the
// node's namespace. index (0-255) keeps the PCI addresses of several PFs apart.
func WriteTree(root, pf string, index int, vfNetdevs []string) error {
	pfPCI := fmt.Sprintf("0000:%02x:00.0", index)
	pfDir := filepath.Join(root, "devices", pfPCI)
	if err := os.MkdirAll(pfDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(pfDir, "sriov_numvfs"), []byte(strconv.Itoa(len(vfNetdevs))+"\n"), 0o644); err != nil {
		return err
	}
	for i, name := range vfNetdevs {
		vfPCI := fmt.Sprintf("0000:%02x:01.%d", index, i)
		if err := os.MkdirAll(filepath.Join(root, "devices", vfPCI, "net"), 0o755); err != nil {
			return err
		}
		if name != "" {
			if err := os.MkdirAll(filepath.Join(root, "devices", vfPCI, "net", name), 0o755); err != nil {
				return err
			}
		}
		if err := os.Symlink("../"+vfPCI, filepath.Join(pfDir, "virtfn"+strconv.Itoa(i))); err != nil {
			return err
		}
	}
	netDir := filepath.Join(root, "class", "net", pf)
	if err := os.MkdirAll(netDir, 0o755); err != nil {
		return err
	}
	return os.Symlink(filepath.Join("..", "..", "..", "devices", pfPCI), filepath.Join(netDir, "device"))
}

// Call is one recorded Configurer call; Op is "configure" or "reset".
type Call struct {
	Op   string
	PF   string
	VF   int
	MAC  string
	VLAN uint16
}

// Recorder is a sriov.Configurer that records its calls and fails when Fail is set.
type Recorder struct {
	mu    sync.Mutex
	calls []Call
	// Fail, when set, is returned by every call (which is still recorded).
	Fail error
}

var _ sriov.Configurer = (*Recorder)(nil)

// Configure implements sriov.Configurer.
func (r *Recorder) Configure(vf sriov.VF, mac net.HardwareAddr, vlan uint16) error {
	return r.record(Call{Op: "configure", PF: vf.PF, VF: vf.Index, MAC: mac.String(), VLAN: vlan})
}

// Reset implements sriov.Configurer.
func (r *Recorder) Reset(vf sriov.VF) error {
	return r.record(Call{Op: "reset", PF: vf.PF, VF: vf.Index, MAC: vf.MAC})
}

// Calls returns the calls so far, in order.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

func (r *Recorder) record(c Call) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	return r.Fail
}
