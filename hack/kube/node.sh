#!/usr/bin/env bash
# hack/kube/node.sh is a node's init: hack/kube-up.sh starts it in the node's network namespace and
# in a fresh private mount namespace (unshare --mount --propagation private). It puts itself into
# the node's cgroup, bind-mounts the node's own directories over the node-local paths (the way a kind
# node is a container with its own filesystem), and runs containerd and kubelet until killed.
#
# Usage (by kube-up.sh only): node.sh INDEX
set -euo pipefail
# shellcheck source=hack/kube/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
i="$1"
name="$(node_name "$i")"
dir="$(node_dir "$i")"
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

for h in $(cgroup_hierarchies); do
	echo $$ >"$KUBE_CGROUP_ROOT/$h/$name/node/cgroup.procs"
done

for p in "${KUBE_NODE_PATHS[@]}"; do
	# A path that is a mount point on the host (/run/netns is) would stay underneath ours, and
	# containerd's propagation check reads the first entry; drop the copy (this mount namespace is
	# private, so the host keeps its mount).
	while mountpoint -q "$p"; do umount -l "$p"; done
	mount --bind "$dir/root$p" "$p"
done
# Pods' hostPath mounts with propagation (the agent's view of /run/netns) and kubelet's volume
# mounts need shared mounts; they are shared only within this node's mount namespace.
mount --make-rshared /var/lib/kubelet
mount --make-rshared /run/netns
# The node's own bpffs, as a machine has one: the agent's vlan datapath pins there (the DaemonSet
# mounts it Bidirectional, which needs it shared), and it goes with the node's mount namespace.
# The host's bpffs, copied into this namespace, goes first: containerd's propagation check reads the
# first mount at a path (as above).
while mountpoint -q /sys/fs/bpf; do umount -l /sys/fs/bpf; done
mount -t bpf bpf /sys/fs/bpf
mount --make-shared /sys/fs/bpf

containerd --config "$dir/containerd.toml" </dev/null >>"$dir/containerd.log" 2>&1 &
echo $! >"$dir/containerd.pid"
for _ in $(seq 300); do
	[ -S /run/containerd/containerd.sock ] && break
	sleep 0.1
done

"$KUBE_BIN/kubelet" --config "$dir/kubelet.yaml" --kubeconfig "$dir/kubelet.kubeconfig" \
	--hostname-override "$name" --node-ip "$(node_ip "$i")" --v 1 </dev/null >>"$dir/kubelet.log" 2>&1 &
echo $! >"$dir/kubelet.pid"
wait
