// Package netlinkdp is the real agent.Dataplane: it builds pods' links with netlink in network
// namespaces, through vishvananda/netlink handles bound to the node's namespace and to each pod's.
//
// Node plumbing (bridges, VXLAN devices and their flood entries, the VLAN datapath's programs on
// trunks) lives in the node namespace, which is the agent's own unless Options.HostNetns names another (tests
// use a fresh namespace per "node"). It is created when the first pod needs it, shared between pods,
// and never removed by Detach. A handle opened in a namespace keeps its sockets there, so no
// goroutine's thread ever switches namespace outside netlink's own locked calls.
//
// Each network type builds this:
//
//	overlay  bridge Link.Bridge + VXLAN Link.VXLAN (VNI, local VTEP, dstport 4789, learning off) with
//	         an all-zero FDB entry per peer VTEP; a veth HostIf (on the bridge) <-> PodIf (in the pod)
//	vlan     a veth HostIf <-> PodIf on no bridge, and a port in the eBPF VLAN datapath (package
//	         vlanbpf): the uplink Link.Uplink (up, promiscuous) is a trunk for any number of VLANs,
//	         the pod's frames leave it tagged Link.VLAN, and its frames of Link.VLAN reach the pod.
//	         Detach deletes the veth and then prunes the datapath's ports whose veths are gone.
//	macvlan  a bridge-mode macvlan of the uplink, created straight into the pod as PodIf
//	sriov    a free VF of the PF Link.Uplink (package sriov), its MAC and VLAN set on the PF, its
//	         netdev moved into the pod and renamed PodIf; Detach gives it back under its old name
//
// Pod interfaces get their MAC, MTU, addresses (IPv6 without duplicate address detection, so they are
// usable at once) and routes, and are set up. Attach converges: what already exists as planned is
// kept, so a repeated Attach changes nothing. When Attach fails it removes the pod links it created in
// that call. Detach removes by name and succeeds when the links or the pod's namespace are gone.
package netlinkdp
