// Package sriov owns the node's SR-IOV virtual functions: it finds the VFs of a physical function in
// sysfs, hands each to at most one pod link at a time, and programs a VF's MAC and VLAN on its PF.
//
// # Sysfs
//
// A Pool reads a sysfs tree rooted at Options.Root ("/sys" on a real node; tests build a tree in a
// temporary directory):
//
//	<root>/class/net/<pf>/device/sriov_numvfs        number of enabled VFs
//	<root>/class/net/<pf>/device/virtfn<N>           symlink to the VF's PCI device, e.g. ../0000:03:02.1
//	<vf pci device>/net/<netdev>                     the VF's network device while it is in this netns
//
// # Allocation record
//
// The pool remembers which owner (a container and pod interface) holds which VF, with the VF's
// original netdev name so that the dataplane can give it back under that name. The record lives in
// memory, or in Options.RecordFile (written atomically) so that it survives agent restarts. A VF is
// handed out only when it is in no record and its netdev is visible in the node's namespace: a VF
// that sits in some pod's namespace has no netdev there, so after a restart without a record file the
// VFs in use are still never handed out twice.
package sriov
