// Package nodebench measures Knitter's node path as a container runtime drives it — libcni executes
// knitter-plugin, which calls knitter-agent on its unix socket, which builds the pod's links with
// the netlink dataplane — against two baselines measured in the same run: the reference CNI plugins
// (bridge, macvlan, host-local) making the same attachments, and the floor, the bare netlink calls
// that build the same links and nothing else (DESIGN.md §8).
//
// The benchmark pod has eth0 and three extra NICs: two more overlays and a macvlan. On a real node
// the third would be a VLAN port; this kernel has no bridge VLAN filtering, so an overlay stands in
// for it, as an untagged bridge port does in the reference run. The pod's ports are allocated
// beforehand by a real in-process manager, as knitter-monitor does before the runtime's CNI call.
//
// Every benchmark makes and removes its own network namespaces: a "node" namespace holds the
// bridges, VXLAN devices and NICs, so the host is not touched. They need root and skip without it;
// the reference run needs the plugin binaries that hack/refplugins.sh builds. Results and the
// commands that reproduce them are in docs/benchmarks.md ("Node path").
package nodebench
