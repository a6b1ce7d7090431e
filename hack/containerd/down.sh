#!/usr/bin/env bash
# down.sh stops the containerd that up.sh started and removes everything it made, so that the next
# up.sh starts clean and the machine is left as it was. It is safe to run again, or when containerd
# already died:
#
#   1. removes every pod sandbox through CRI (which runs CNI DEL for each) while containerd answers;
#   2. stops containerd (SIGTERM, then SIGKILL after 15 s);
#   3. deletes containers runc still knows under this instance's runc root and kills this instance's
#      shims (found by their -address argument);
#   4. unmounts whatever is still mounted under $KNITTER_CONTAINERD_DIR (rootfs overlays, /dev/shm,
#      pinned network namespaces), removes the empty pod cgroups, and deletes the directory.
#
# Usage: hack/containerd/down.sh       settings come from the environment; see hack/containerd/lib.sh.
#
# It deletes $KNITTER_CONTAINERD_DIR only if up.sh made it (the .knitter-containerd marker); the CNI
# conf and bin dirs are the caller's and are left alone.
set -euo pipefail
# shellcheck source=hack/containerd/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:-}" in
-h | --help)
	awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"
	exit 0
	;;
"") ;;
*)
	echo "error: unknown argument $1 (see $0 --help)" >&2
	exit 2
	;;
esac

need_root
check_dir
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

if [ ! -e "$CTRD_DIR" ]; then
	echo "down: $CTRD_DIR does not exist; nothing to do"
	exit 0
fi
if [ ! -f "$CTRD_MARKER" ]; then
	echo "error: $CTRD_DIR was not made by hack/containerd/up.sh (no $(basename "$CTRD_MARKER")); not touching it" >&2
	exit 1
fi
t0="$(now_ms)"

remove_pods() {
	# crictl would spend its whole timeout dialling a dead socket.
	ctrd_pid >/dev/null || return 0
	[ -x "$KNITTER_TOOLS_BIN/crictl" ] || return 0
	local pods
	pods="$(timeout 30 "$KNITTER_TOOLS_BIN/crictl" --config "$CTRD_CRICTL_CONFIG" pods -q 2>/dev/null)" || return 0
	[ -n "$pods" ] || return 0
	echo "down: removing $(wc -l <<<"$pods") pod sandbox(es) through CRI"
	timeout 120 "$KNITTER_TOOLS_BIN/crictl" --config "$CTRD_CRICTL_CONFIG" rmp --all --force >/dev/null ||
		echo "down: warning: crictl rmp --all --force failed; cleaning up underneath CRI" >&2
}

stop_containerd() {
	local pid
	pid="$(ctrd_pid)" || return 0
	kill -TERM "$pid"
	if ! wait_until 15 bash -c "! kill -0 $pid"; then
		echo "down: containerd (pid $pid) ignored SIGTERM for 15 s; sending SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null || true
		wait_until 5 bash -c "! kill -0 $pid" || true
	fi
	echo "down: containerd (pid $pid) stopped"
}

# remove_containers deletes what runc still runs for this instance; its shims would otherwise keep
# the containers' mounts and cgroups busy.
remove_containers() {
	local root="$CTRD_DIR/runc/$CTRD_NS" id proc comm args ids=()
	if [ -d "$root" ] && command -v runc >/dev/null 2>&1; then
		for id in $(runc --root "$root" list -q 2>/dev/null); do
			echo "down: runc delete --force $id"
			runc --root "$root" delete --force "$id" || true
			ids+=("$id")
		done
	fi
	for proc in /proc/[0-9]*; do
		# comm is read without a fork, so the scan stays fast on a busy machine. A process may exit
		# while we look; that is not an error.
		{ read -r comm <"$proc/comm"; } 2>/dev/null || continue
		[[ "$comm" == containerd-shim* ]] || continue
		# One argument a line, so that only an exact "-address <our socket>" argument matches.
		args="$({ tr '\0' '\n' <"$proc/cmdline"; } 2>/dev/null)" || continue
		if grep -q -x -F -- "$CTRD_SOCK" <<<"$args"; then
			echo "down: killing leftover shim pid ${proc#/proc/}"
			kill -KILL "${proc#/proc/}" 2>/dev/null || true
			ids+=("$(grep -x -A 1 -e '-id' <<<"$args" | tail -n 1)")
		fi
	done
	# A killed shim leaves its socket in containerd's fixed socket dir, named (in containerd 1.6) by
	# the sha256 of "<containerd socket>/<namespace>/<id>".
	# A sandbox whose CNI DEL never ran also leaves its results in libcni's cache, one file per
	# attachment named "<network>-<sandbox id>-<interface>".
	for id in "${ids[@]}"; do
		[ -n "$id" ] || continue
		rm -f "/run/containerd/s/$(printf '%s' "$CTRD_SOCK/$CTRD_NS/$id" | sha256sum | awk '{print $1}')"
		rm -f /var/lib/cni/results/*-"$id"-*
	done
}

# unmount_all unmounts, deepest first, every mount point under CTRD_DIR.
unmount_all() {
	local mnt
	awk -v prefix="$CTRD_DIR/" 'index($5, prefix) == 1 { print $5 }' /proc/self/mountinfo | sort -r -u |
		while read -r mnt; do
			echo "down: umount $mnt"
			umount "$mnt" 2>/dev/null || umount -l "$mnt"
		done
}

remove_cgroups() {
	local dir
	for dir in /sys/fs/cgroup/*/"$CTRD_CGROUP_PARENT" /sys/fs/cgroup/"$CTRD_CGROUP_PARENT"; do
		[ -d "$dir" ] || continue
		# rmdir, never rm: the kernel refuses to remove a cgroup that still holds a process, and
		# that refusal is the warning we want.
		find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null ||
			echo "down: warning: could not remove cgroup $dir (processes still in it?)" >&2
	done
}

remove_pods
stop_containerd
remove_containers
unmount_all
remove_cgroups
rm -rf "$CTRD_DIR"
# The shims keep their sockets in containerd's default state dir; leave it only if something else uses it.
rmdir /run/containerd/s /run/containerd 2>/dev/null || true
# containerd 1.6's CRI plugin caches CNI results in libcni's fixed default, /var/lib/cni/results, and
# empties it on DEL; remove the directories only if nothing else has put anything there.
rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null || true
echo "down: removed $CTRD_DIR in $(($(now_ms) - t0)) ms"
