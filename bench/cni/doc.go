// Package cnibench measures what a pod's network set-up costs without Knitter, as the baselines that
// Knitter's own pod ADD and DEL benchmarks are judged against (DESIGN.md §8): the reference CNI
// plugins (bridge, macvlan, host-local) driven through libcni as a container runtime drives them, and
// the floor, the bare netlink calls that build the same interfaces and nothing else.
//
// Both build the pod of Knitter's benchmark — eth0 plus three extra NICs — in throwaway network
// namespaces: a "node" namespace holds the bridges and the macvlan parent, so the host is not
// touched. They need root and skip without it; the reference benchmark also needs the plugin
// binaries, which hack/refplugins.sh builds. Run them with `make bench PKG=./bench/cni`.
package cnibench
