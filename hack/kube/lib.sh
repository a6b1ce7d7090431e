# hack/kube/lib.sh holds what hack/kube-up.sh, hack/kube-down.sh and hack/kind-up.sh share: the
# cluster's names and addresses, derived from the environment, and small helpers. Source it.
#
# Environment (all optional):
#   KNITTER_KUBE_DIR     everything the local cluster owns (default /var/lib/knitter-kube)
#   KNITTER_KUBE_NODES   number of nodes (default 2, at most 9)
#   KUBE_VERSION         Kubernetes release built by hack/kube-build.sh (default 1.37.2)
#
# Addresses, chosen apart from the local e2e driver's (192.0.2.0/24, netns "knitter-*") and from
# hack/containerd/smoke.sh (10.250.0.0/24): the bridge knk0 on the host is 10.251.0.1/24, where the
# API server listens; node i is the network namespace knk-<i> at 10.251.0.<10+i>. Its eth1 and eth2
# (the vlan trunk and the macvlan parent of the e2e networks) are plugged into the bridges knk1 and
# knk2. Services get 10.252.0.0/16 (nothing routes them: there is no kube-proxy).
#
# shellcheck shell=bash
# shellcheck disable=SC2034

# shellcheck source=hack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

KUBE_DIR="${KNITTER_KUBE_DIR:-/var/lib/knitter-kube}"
KUBE_NODES="${KNITTER_KUBE_NODES:-2}"
KUBE_PREFIX="knk"
KUBE_API_IP="10.251.0.1"
KUBE_API="https://$KUBE_API_IP:6443"
KUBE_ETCD="127.0.0.1:23791"
KUBE_SERVICE_CIDR="10.252.0.0/16"
KUBE_MARKER="$KUBE_DIR/.knitter-kube"
KUBE_PAUSE_IMAGE="registry.local/knitter/pause:3.10"
KUBE_NS="knitter-system"
KUBECONFIG_ADMIN="$KUBE_DIR/admin.kubeconfig"
# The sysctls kubelet sets machine-wide; kube-up records them and kube-down puts them back.
KUBE_SYSCTLS=(vm.overcommit_memory kernel.panic kernel.panic_on_oops)
# The cgroup v1 hierarchies each node gets a cgroup in (kubelet's cgroupRoot).
KUBE_CGROUP_ROOT=/sys/fs/cgroup

node_name() { echo "$KUBE_PREFIX-$1"; }
node_ip() { echo "10.251.0.$((10 + $1))"; }
node_dir() { echo "$KUBE_DIR/nodes/$(node_name "$1")"; }

# The node-local directories: the node's view of PATH is bind-mounted from node_dir/ROOT/PATH.
KUBE_NODE_PATHS=(/etc/cni/net.d /opt/cni/bin /run/knitter /var/lib/knitter /var/lib/knitter-manager
	/var/lib/kubelet /run/containerd /var/lib/containerd /var/log/pods /var/log/containers /var/lib/cni
	/run/netns /etc/kubernetes)

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "error: $0 must run as root (network namespaces, mounts, cgroups, containerd)" >&2
		exit 1
	fi
}

# cgroup_hierarchies prints the mounted cgroup v1 hierarchies that kubelet uses.
cgroup_hierarchies() {
	local h
	for h in blkio cpu cpuacct cpuset devices freezer memory pids systemd; do
		[ -d "$KUBE_CGROUP_ROOT/$h" ] && [ ! -L "$KUBE_CGROUP_ROOT/$h" ] && echo "$h"
	done
	return 0
}

# kubectl runs the cached kubectl on the local cluster as its admin.
kubectl() {
	"$KUBE_BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# step prints how long the previous step took (the docs' cold/warm table comes from these lines).
STEP_START="$(now_ms)"
step() {
	local now
	now="$(now_ms)"
	printf '%s: %-44s %7.1f s\n' "$(basename "$0" .sh)" "$1" "$(((now - STEP_START) / 100))e-1"
	STEP_START="$now"
}

# wait_until runs a command every 200 ms until it succeeds or SECONDS pass.
wait_until() {
	local seconds="$1" deadline
	shift
	deadline=$(($(now_ms) + seconds * 1000))
	until "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

# pid_alive FILE PATTERN succeeds when FILE holds the pid of a live process whose command line
# contains PATTERN (a recycled pid belongs to some other program).
pid_alive() {
	local pid
	[ -f "$1" ] || return 1
	pid="$(cat "$1")"
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -F -- "$2"
}
