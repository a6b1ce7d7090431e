# lib.sh holds what the hack/containerd scripts share: the settings every script derives from the
# same environment variables, and small helpers. Source it; it only defines variables and functions.
#
# Environment (all optional):
#   KNITTER_CONTAINERD_DIR   everything this containerd owns: root, state, socket, pid file, log,
#                            netns mounts, runc state (default /var/lib/knitter-test/containerd)
#   KNITTER_CNI_BIN_DIR      the CRI plugin's CNI bin_dir (default <repo>/.cache/cni-bin)
#   KNITTER_CNI_CONF_DIR     the CRI plugin's CNI conf_dir (default $KNITTER_CONTAINERD_DIR/net.d)
#   KNITTER_PAUSE_IMAGE      name of the locally built sandbox image (default registry.local/knitter/pause:3.10)
#   KNITTER_CONTAINERD_LOG_LEVEL  containerd's log level (default info)
#   KNITTER_TOOLS_BIN        where crictl and cnitool are installed (default <repo>/.cache/bin)
#
# shellcheck shell=bash
# The variables are used by the scripts that source this file, which shellcheck cannot see.
# shellcheck disable=SC2034

# shellcheck source=hack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

CRICTL_PKG="sigs.k8s.io/cri-tools/cmd/crictl"
CRICTL_MODULE="sigs.k8s.io/cri-tools"
CRICTL_VERSION="v1.34.0"
CNITOOL_PKG="github.com/containernetworking/cni/cnitool"
CNITOOL_MODULE="github.com/containernetworking/cni"
CNITOOL_VERSION="v1.3.1"

KNITTER_CONTAINERD_DIR="${KNITTER_CONTAINERD_DIR:-/var/lib/knitter-test/containerd}"
KNITTER_CNI_BIN_DIR="${KNITTER_CNI_BIN_DIR:-$(repo_root)/.cache/cni-bin}"
KNITTER_CNI_CONF_DIR="${KNITTER_CNI_CONF_DIR:-$KNITTER_CONTAINERD_DIR/net.d}"
KNITTER_PAUSE_IMAGE="${KNITTER_PAUSE_IMAGE:-registry.local/knitter/pause:3.10}"
KNITTER_CONTAINERD_LOG_LEVEL="${KNITTER_CONTAINERD_LOG_LEVEL:-info}"
KNITTER_TOOLS_BIN="${KNITTER_TOOLS_BIN:-$(repo_root)/.cache/bin}"

CTRD_DIR="$KNITTER_CONTAINERD_DIR"
CTRD_SOCK="$CTRD_DIR/containerd.sock"
CTRD_CONFIG="$CTRD_DIR/config.toml"
CTRD_PID_FILE="$CTRD_DIR/containerd.pid"
CTRD_LOG="$CTRD_DIR/containerd.log"
CTRD_ENV="$CTRD_DIR/env"
CTRD_CRICTL_CONFIG="$CTRD_DIR/crictl.yaml"
# CTRD_MARKER proves that up.sh made CTRD_DIR, so down.sh never deletes a directory it does not own.
CTRD_MARKER="$CTRD_DIR/.knitter-containerd"
# CTRD_CGROUP_PARENT is the cgroup parent in sandbox.json.tmpl, without the leading slash.
CTRD_CGROUP_PARENT="knitter-test"
# CTRD_NS is the containerd namespace the CRI plugin uses.
CTRD_NS="k8s.io"

# need_root stops unless the script runs as root, which containerd and network namespaces require.
need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "error: $0 must run as root (containerd, runc and network namespaces need it)" >&2
		exit 1
	fi
}

# check_dir refuses a CTRD_DIR that is relative or a top-level directory, because down.sh deletes it.
check_dir() {
	case "$CTRD_DIR" in
	/*/*) ;;
	*)
		echo "error: KNITTER_CONTAINERD_DIR=$CTRD_DIR must be an absolute path at least two levels deep" >&2
		exit 2
		;;
	esac
	# A socket path longer than 107 bytes cannot be bound.
	if [ "${#CTRD_SOCK}" -gt 100 ]; then
		echo "error: KNITTER_CONTAINERD_DIR=$CTRD_DIR is too long for a unix socket path; choose a shorter one" >&2
		exit 2
	fi
}

# now_ms prints a monotonic-enough wall clock in milliseconds, for the step timings the scripts print.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# ctrd_pid prints the pid of this instance's containerd and succeeds only if it is alive.
ctrd_pid() {
	local pid
	[ -f "$CTRD_PID_FILE" ] || return 1
	pid="$(cat "$CTRD_PID_FILE")"
	[ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
	# A recycled pid would belong to some other program: check that it is containerd on our config.
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -F -- "--config $CTRD_CONFIG" || return 1
	echo "$pid"
}

# ctr runs containerd's own CLI against this instance, in the CRI plugin's namespace.
ctr_cmd() {
	ctr --address "$CTRD_SOCK" --namespace "$CTRD_NS" "$@"
}

# crictl_cmd runs crictl against this instance.
crictl_cmd() {
	"$KNITTER_TOOLS_BIN/crictl" --config "$CTRD_CRICTL_CONFIG" "$@"
}

# wait_until runs a command every 100 ms until it succeeds or the deadline (seconds) passes.
wait_until() {
	local seconds="$1" deadline
	shift
	deadline=$(($(now_ms) + seconds * 1000))
	until "$@" >/dev/null 2>&1; do
		if [ "$(now_ms)" -ge "$deadline" ]; then
			return 1
		fi
		sleep 0.1
	done
}

# render replaces each @KEY@ in a template with a value given as KEY=VALUE and prints the result.
# It runs in a subshell so that turning off bash 5.2's patsub_replacement (an "&" in a value would
# otherwise stand for the placeholder) does not leak into the caller.
render() (
	local template="$1" pair key value text
	shift
	shopt -u patsub_replacement 2>/dev/null || true
	text="$(cat "$template")"
	for pair in "$@"; do
		key="${pair%%=*}"
		value="${pair#*=}"
		text="${text//@"$key"@/$value}"
	done
	if grep -q -E '@[A-Z_]+@' <<<"$text"; then
		echo "error: $template: placeholders left unfilled: $(grep -o -E '@[A-Z_]+@' <<<"$text" | sort -u | tr '\n' ' ')" >&2
		return 1
	fi
	printf '%s\n' "$text"
)
