#!/usr/bin/env bash
# hack/kube-down.sh removes the local Kubernetes cluster of hack/kube-up.sh and says what it removed:
# every process of every node (found through the node's cgroups, so pods' processes and containerd's
# shims too), the control plane's processes, the nodes' network namespaces (their mount namespaces
# and every mount in them go with their last process), the bridges knk0-2 and their veths, the
# cgroups, the mount points it created on the host, and $KNITTER_KUBE_DIR. It restores the sysctls
# kubelet changed. Safe to run twice, and after a kube-up.sh that failed half-way.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/kube/lib.sh
. "$here/kube/lib.sh"
need_root
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

if [ ! -e "$KUBE_MARKER" ]; then
	left=""
	ip link show knk0 >/dev/null 2>&1 && left="the bridge knk0"
	if [ -n "$left" ]; then
		echo "kube-down: $KUBE_DIR is gone but $left is still there; remove it by hand (ip link del knk0)" >&2
		exit 1
	fi
	echo "kube-down: no cluster in $KUBE_DIR; nothing to do"
	exit 0
fi
t0="$(now_ms)"

# nodes lists the nodes kube-up made, from their directories.
nodes=()
for d in "$KUBE_DIR"/nodes/*/; do
	[ -d "$d" ] && nodes+=("$(basename "$d")")
done
read -r -a hierarchies <"$KUBE_DIR/cgroups" 2>/dev/null || hierarchies=()

# cgroup_pids NAME prints every pid in the node's cgroup tree, in every hierarchy.
cgroup_pids() {
	local h
	for h in "${hierarchies[@]}"; do
		[ -d "$KUBE_CGROUP_ROOT/$h/$1" ] || continue
		find "$KUBE_CGROUP_ROOT/$h/$1" -name cgroup.procs -exec cat {} + 2>/dev/null
	done | sort -un
}

for n in "${nodes[@]}"; do
	killed=0
	for _ in $(seq 100); do
		pids="$(cgroup_pids "$n")"
		[ -n "$pids" ] || break
		# shellcheck disable=SC2086
		kill -9 $pids 2>/dev/null || true
		killed=$((killed + $(wc -w <<<"$pids")))
		sleep 0.1
	done
	if [ -n "$(cgroup_pids "$n")" ]; then
		echo "kube-down: processes of node $n survive kill -9: $(cgroup_pids "$n" | tr '\n' ' ')" >&2
		exit 1
	fi
	echo "kube-down: node $n: killed its processes (containerd, kubelet, shims, pods; $killed signals)"
done

for c in kube-scheduler kube-controller-manager kube-apiserver etcd; do
	f="$KUBE_DIR/$c.pid"
	pattern="$c"
	[ "$c" = etcd ] && pattern="kubecluster etcd"
	if pid_alive "$f" "$pattern"; then
		pid="$(cat "$f")"
		kill "$pid"
		for _ in $(seq 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
		[ ! -d "/proc/$pid" ] || kill -9 "$pid" 2>/dev/null || true
		echo "kube-down: stopped $c (pid $pid)"
	fi
done

for n in "${nodes[@]}"; do
	if [ -e "/run/netns/$n" ]; then
		ip netns del "$n"
		echo "kube-down: node $n: deleted its network namespace (and the veths into it)"
	fi
done
for j in 0 1 2; do
	if ip link show "knk$j" >/dev/null 2>&1; then
		ip link del "knk$j"
		echo "kube-down: deleted the bridge knk$j"
	fi
done

for n in "${nodes[@]}"; do
	for h in "${hierarchies[@]}"; do
		[ -d "$KUBE_CGROUP_ROOT/$h/$n" ] || continue
		find "$KUBE_CGROUP_ROOT/$h/$n" -depth -type d -exec rmdir {} \;
	done
	echo "kube-down: node $n: removed its cgroups (${hierarchies[*]})"
done

if [ -f "$KUBE_DIR/sysctls" ]; then
	while IFS='=' read -r key value; do
		if [ "$(sysctl -n "$key")" != "$value" ]; then
			sysctl -q -w "$key=$value"
			echo "kube-down: restored $key=$value (kubelet had changed it)"
		fi
	done <"$KUBE_DIR/sysctls"
fi

# Every mount was in a node's mount namespace; a mount under KUBE_DIR on the host would be a bug.
if grep -q -F " $KUBE_DIR/" /proc/self/mountinfo; then
	echo "kube-down: mounts under $KUBE_DIR remain on the host; not deleting it:" >&2
	grep -F " $KUBE_DIR/" /proc/self/mountinfo >&2
	exit 1
fi
if [ -f "$KUBE_DIR/mountpoints" ]; then
	while read -r mp; do
		rmdir "$mp" 2>/dev/null && echo "kube-down: removed the mount point $mp it had created"
	done < <(tac "$KUBE_DIR/mountpoints")
fi
rm -rf "$KUBE_DIR"
echo "kube-down: removed $KUBE_DIR; done in $((($(now_ms) - t0) / 1000)) s"
