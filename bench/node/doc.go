// Package nodebench measures Knitter's node path as a container runtime drives it — libcni executes
// knitter-plugin, which calls knitter-agent on its unix socket, which builds the pod's links with
// the netlink dataplane — against two baselines measured in the same run: the reference CNI plugins
// (bridge, macvlan, host-local) making the same attachments, and the floor, the bare netlink calls
// that build the same links and nothing else (DESIGN.md §8).
//
// The benchmark pod has eth0 and three extra NICs: two more overlays and a macvlan (the reference
// plugins have no VLAN path comparable to Knitter's eBPF one). BenchmarkVLANAttach times vlan
// against overlay attachments on the dataplane, and BenchmarkVLANThroughput compares the eBPF VLAN
// path's throughput and RTT with a plain veth and a Linux bridge (iperf3). The pod's ports are allocated
// beforehand by a real in-process manager, as knitter-monitor does before the runtime's CNI call.
//
// Every benchmark makes and removes its own network namespaces: a "node" namespace holds the
// bridges, VXLAN devices and NICs, so the host is not touched. They need root and skip without it;
// the reference run needs the plugin binaries that hack/refplugins.sh builds. Results and the
// commands that reproduce them are in docs/benchmarks.md ("Node path").
package nodebench
