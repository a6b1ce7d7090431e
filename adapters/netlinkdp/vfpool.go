package netlinkdp

import "github.com/knitter-cni/knitter/adapters/sriov"

// VFPool hands a PF's VFs to pod links, at most one owner each. *sriov.Pool is the real one (sysfs
// and an allocation record); the dataplane needs nothing else of it.
type VFPool interface {
	// Take gives owner a free VF of pf (the one it holds, if any), recording its netdev's MAC.
	Take(pf, owner string, probe sriov.Probe) (sriov.VF, error)
	// Held returns the VF owner holds.
	Held(owner string) (sriov.VF, bool)
	// Release forgets owner's VF.
	Release(owner string) error
	// CurrentNetdev returns the VF's netdev name in the node's namespace now, "" if it is not there.
	CurrentNetdev(vf sriov.VF) (string, error)
}

var _ VFPool = (*sriov.Pool)(nil)
