#!/usr/bin/env bash
# up.sh starts a private containerd with its CRI plugin for Knitter's real-runtime tests, and does
# only what is missing, so it is cheap to run again:
#
#   1. apt-get installs containerd and runc if they are absent;
#   2. go-installs crictl and cnitool into .cache/bin, and the reference plugins (loopback is needed
#      by the CRI plugin itself) into the CNI bin dir (hack/refplugins.sh);
#   3. renders config.toml.tmpl into $KNITTER_CONTAINERD_DIR and starts containerd in the
#      background (pid file, log), waiting for its CRI service to answer;
#   4. builds the pause image (pause-image.sh) and imports it, as no registry is reachable;
#   5. writes $KNITTER_CONTAINERD_DIR/env (source it to point ctr, crictl and tests at this instance)
#      and crictl.yaml.
#
# Usage: hack/containerd/up.sh       settings come from the environment; see hack/containerd/lib.sh.
# Stop it and remove everything it made with hack/containerd/down.sh.
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
need_go
check_dir
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# containerd finds runc and the shim on PATH, and dpkg needs the sbin directories.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
t0="$(now_ms)"

# step prints how long the previous step took, so slow set-up is visible in CI logs.
step_start="$t0"
step() {
	local now
	now="$(now_ms)"
	printf 'up: %-34s %6d ms\n' "$1" $((now - step_start))
	step_start="$now"
}

# go_tool_at says whether bin was built from module@version. Unlike install-tools.sh it ignores the
# Go that built it: these tools never read Go source, and crictl takes minutes to build.
go_tool_at() {
	local bin="$1" module="$2" version="$3"
	[ -x "$bin" ] || return 1
	go version -m "$bin" 2>/dev/null | grep -q -P "^\tmod\t${module//./\\.}\t${version//./\\.}\t"
}

install_runtime() {
	local missing=() cmd
	for cmd in containerd runc containerd-shim-runc-v2 ctr; do
		command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
	done
	[ "${#missing[@]}" -gt 0 ] || return 0
	echo "up: missing ${missing[*]}; installing the Debian packages containerd and runc"
	"$(repo_root)/hack/install-tools.sh" containerd runc
}

install_tools() {
	mkdir -p "$KNITTER_TOOLS_BIN"
	if ! go_tool_at "$KNITTER_TOOLS_BIN/crictl" "$CRICTL_MODULE" "$CRICTL_VERSION"; then
		echo "up: go install $CRICTL_PKG@$CRICTL_VERSION -> $KNITTER_TOOLS_BIN (a few minutes)"
		GOBIN="$KNITTER_TOOLS_BIN" GOFLAGS="" go install "$CRICTL_PKG@$CRICTL_VERSION"
	fi
	if ! go_tool_at "$KNITTER_TOOLS_BIN/cnitool" "$CNITOOL_MODULE" "$CNITOOL_VERSION"; then
		echo "up: go install $CNITOOL_PKG@$CNITOOL_VERSION -> $KNITTER_TOOLS_BIN"
		GOBIN="$KNITTER_TOOLS_BIN" GOFLAGS="" go install "$CNITOOL_PKG@$CNITOOL_VERSION"
	fi
	"$(repo_root)/hack/refplugins.sh" "$KNITTER_CNI_BIN_DIR" >/dev/null
}

write_config() {
	mkdir -p "$CTRD_DIR"
	touch "$CTRD_MARKER"
	render "$here/config.toml.tmpl" \
		DIR="$CTRD_DIR" \
		PAUSE_IMAGE="$KNITTER_PAUSE_IMAGE" \
		CNI_BIN_DIR="$KNITTER_CNI_BIN_DIR" \
		CNI_CONF_DIR="$KNITTER_CNI_CONF_DIR" \
		LOG_LEVEL="$KNITTER_CONTAINERD_LOG_LEVEL" >"$CTRD_DIR/config.toml.new"
	cat >"$CTRD_CRICTL_CONFIG" <<-EOF
		runtime-endpoint: unix://$CTRD_SOCK
		image-endpoint: unix://$CTRD_SOCK
		timeout: 30
	EOF
}

start_containerd() {
	local pid
	if pid="$(ctrd_pid)"; then
		if ! cmp -s "$CTRD_CONFIG" "$CTRD_DIR/config.toml.new"; then
			echo "error: containerd (pid $pid) already runs from $CTRD_DIR with other settings:" >&2
			diff "$CTRD_CONFIG" "$CTRD_DIR/config.toml.new" >&2 || true
			echo "run hack/containerd/down.sh first, or choose another KNITTER_CONTAINERD_DIR" >&2
			rm -f "$CTRD_DIR/config.toml.new"
			exit 1
		fi
		rm -f "$CTRD_DIR/config.toml.new"
		echo "up: containerd already running (pid $pid)"
		return 0
	fi
	mv "$CTRD_DIR/config.toml.new" "$CTRD_CONFIG"
	mkdir -p "$KNITTER_CNI_CONF_DIR"
	rm -f "$CTRD_SOCK"
	# setsid: containerd must outlive this script and not get the caller's terminal signals.
	setsid containerd --config "$CTRD_CONFIG" </dev/null >>"$CTRD_LOG" 2>&1 &
	echo $! >"$CTRD_PID_FILE"
	if ! wait_until 30 crictl_cmd version; then
		echo "error: containerd did not serve CRI on $CTRD_SOCK within 30s; the end of $CTRD_LOG:" >&2
		tail -n 30 "$CTRD_LOG" >&2
		# Leave nothing half-started: the next up.sh starts from scratch.
		kill "$(cat "$CTRD_PID_FILE")" 2>/dev/null || true
		rm -f "$CTRD_PID_FILE"
		exit 1
	fi
	echo "up: containerd $(containerd --version | awk '{print $3}') running (pid $(cat "$CTRD_PID_FILE")), log $CTRD_LOG"
}

import_pause_image() {
	if [ -n "$(ctr_cmd images ls -q "name==$KNITTER_PAUSE_IMAGE")" ]; then
		return 0
	fi
	local archive="$CTRD_DIR/pause-image.tar"
	"$here/pause-image.sh" "$KNITTER_PAUSE_IMAGE" "$archive"
	ctr_cmd images import "$archive" >/dev/null
	if [ -z "$(ctr_cmd images ls -q "name==$KNITTER_PAUSE_IMAGE")" ]; then
		echo "error: ctr imported $archive but no image named $KNITTER_PAUSE_IMAGE appeared" >&2
		exit 1
	fi
}

write_env() {
	cat >"$CTRD_ENV" <<-EOF
		# Source this file to point ctr, crictl and Knitter's runtime tests at the containerd in $CTRD_DIR.
		export KNITTER_CONTAINERD_DIR="$CTRD_DIR"
		export KNITTER_CNI_BIN_DIR="$KNITTER_CNI_BIN_DIR"
		export KNITTER_CNI_CONF_DIR="$KNITTER_CNI_CONF_DIR"
		export KNITTER_PAUSE_IMAGE="$KNITTER_PAUSE_IMAGE"
		export CONTAINERD_ADDRESS="$CTRD_SOCK"
		export CONTAINERD_NAMESPACE="$CTRD_NS"
		export CONTAINER_RUNTIME_ENDPOINT="unix://$CTRD_SOCK"
		export IMAGE_SERVICE_ENDPOINT="unix://$CTRD_SOCK"
		export CRI_CONFIG_FILE="$CTRD_CRICTL_CONFIG"
		export PATH="$KNITTER_TOOLS_BIN:\$PATH"
	EOF
}

install_runtime
step "containerd and runc present"
install_tools
step "crictl, cnitool, reference plugins"
write_config
start_containerd
step "containerd serving CRI"
import_pause_image
step "pause image $KNITTER_PAUSE_IMAGE"
write_env
echo "up: ready in $(($(now_ms) - t0)) ms; socket $CTRD_SOCK"
echo "up: CNI bin_dir $KNITTER_CNI_BIN_DIR, conf_dir $KNITTER_CNI_CONF_DIR"
echo "up: run '. $CTRD_ENV' to use crictl and ctr on it; hack/containerd/down.sh removes it"
