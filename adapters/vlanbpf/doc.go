// Package vlanbpf is the VLAN datapath of vlan networks: 802.1Q tagging and VLAN isolation done by
// two tc eBPF programs (BPF_PROG_TYPE_SCHED_CLS, direct action) instead of the kernel's 802.1Q module
// and VLAN-filtering bridges, so it runs on any kernel with BPF and TCX (Linux 6.6 and later) and
// needs neither CONFIG_VLAN_8021Q nor CONFIG_BRIDGE_VLAN_FILTERING.
//
// Per node, one trunk NIC carries any number of VLANs. Pods attach by veth; the programs are:
//
//	port   on each pod veth's node end (TCX ingress, so it sees what the pod sends): drops frames the
//	       pod tagged itself (802.1Q or 802.1ad), hair-pins unicast to a local pod of the same VLAN,
//	       copies broadcast and multicast (ARP, IPv6 neighbour discovery) to every other local pod of
//	       the VLAN, and pushes the VLAN tag and redirects the frame out of the trunk.
//	trunk  on the trunk NIC (TCX ingress): takes the tag from the skb's metadata (the kernel moves
//	       it there before tc runs), ignores untagged frames and VLANs without local pods (they go
//	       on to the host as before), pops the tag and delivers the frame to the local pod with that
//	       (VLAN, destination MAC), or copies it to every local pod of the VLAN when it is broadcast
//	       or multicast. Unicast to an unknown MAC of a local VLAN is dropped.
//
// Three hash maps hold the state, all keyed by the trunk's ifindex so that two trunks (two physical
// networks) never mix: ports (pod veth ifindex -> trunk, VLAN, pod MAC), fdb ((trunk, VLAN, MAC) ->
// pod veth ifindex) and flood ((trunk, VLAN, slot) -> pod veth ifindex, slots 0..n-1 dense).
//
// Maps and TCX links are pinned in bpffs (mounted at /sys/fs/bpf if it is not), under a directory
// per node network namespace, so a restarted agent finds them and traffic never stops. Removing a
// pod's port deletes its entries and its program; the last port of a VLAN leaves no entry of that
// VLAN, the last port of a trunk detaches the trunk's program, and the last port of the node removes
// the pinned maps, so a node without vlan pods has no programs and no maps.
package vlanbpf
