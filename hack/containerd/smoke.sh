#!/usr/bin/env bash
# smoke.sh proves that the containerd from up.sh can run a pod sandbox with real networking: with the
# reference bridge + host-local plugins as the CNI config, `crictl runp` must give the pod a network
# namespace whose eth0 holds an address from the configured range, and `crictl stopp` + `rmp` must
# release it (netns gone, host-local lease gone). It prints how long each step took.
#
# Usage: hack/containerd/smoke.sh      (runs up.sh first; settings as in hack/containerd/lib.sh)
#
# The CRI plugin uses the first config in its conf_dir, so the smoke test refuses to run while
# another config is there. It touches the host's network: a bridge named knsmoke0 with 10.250.0.1/24,
# which it deletes again, together with its CNI config, on any exit.
set -euo pipefail
# shellcheck source=hack/containerd/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:-}" in
-h | --help)
	awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"
	exit 0
	;;
esac

need_root
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
"$here/up.sh"

NET_NAME="knitter-smoke"
BRIDGE="knsmoke0"
SUBNET_PREFIX="10.250.0."
CONF="$KNITTER_CNI_CONF_DIR/10-$NET_NAME.conflist"
LEASES="$CTRD_DIR/host-local"
POD_UID="knitter-smoke-$$"
pod=""

others="$(find "$KNITTER_CNI_CONF_DIR" -maxdepth 1 -type f \( -name '*.conf' -o -name '*.conflist' -o -name '*.json' \) ! -path "$CONF" -print)"
if [ -n "$others" ]; then
	echo "error: $KNITTER_CNI_CONF_DIR already holds CNI configs, and CRI would use the first:" >&2
	echo "  ${others//$'\n'/$'\n'  }" >&2
	echo "remove them, or run the smoke test on its own instance: KNITTER_CONTAINERD_DIR=/var/lib/knitter-test/smoke $0" >&2
	exit 1
fi

cleanup() {
	local rc=$?
	if [ -n "$pod" ]; then
		crictl_cmd rmp --force "$pod" >/dev/null 2>&1 || true
	fi
	rm -f "$CONF"
	ip link del "$BRIDGE" 2>/dev/null || true
	rm -rf "$CTRD_DIR/pod-logs/$POD_UID"
	if [ "$rc" -ne 0 ]; then
		echo "smoke: FAILED; the end of $CTRD_LOG:" >&2
		tail -n 15 "$CTRD_LOG" >&2
	fi
}
trap cleanup EXIT

fail() {
	echo "smoke: FAIL: $*" >&2
	exit 1
}

step_start="$(now_ms)"
# step prints how long the previous step took.
step() {
	local now
	now="$(now_ms)"
	printf 'smoke: %-44s %6d ms\n' "$1" $((now - step_start))
	step_start="$now"
}

cat >"$CONF" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$NET_NAME",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "${SUBNET_PREFIX}0/24" }]],
        "routes": [{ "dst": "0.0.0.0/0" }],
        "dataDir": "$LEASES"
      }
    }
  ]
}
EOF

# network_ready says whether CRI has loaded a CNI config; it notices new files asynchronously.
network_ready() {
	[ "$(crictl_cmd info -o go-template --template '{{range .status.conditions}}{{if eq .type "NetworkReady"}}{{.status}}{{end}}{{end}}')" = true ]
}
wait_until 30 network_ready || fail "CRI did not report NetworkReady within 30s after writing $CONF"
step "CRI loaded $(basename "$CONF")"

sandbox="$CTRD_DIR/smoke-sandbox.json"
render "$here/sandbox.json.tmpl" NAME=smoke NAMESPACE=default UID="$POD_UID" DIR="$CTRD_DIR" >"$sandbox"
pod="$(crictl_cmd runp "$sandbox")"
step "crictl runp (sandbox + CNI ADD)"

netns="$(crictl_cmd inspectp -o go-template \
	--template '{{range .info.runtimeSpec.linux.namespaces}}{{if eq .type "network"}}{{.path}}{{end}}{{end}}' "$pod")"
case "$netns" in
"$CTRD_DIR"/state/*) ;;
*) fail "pod $pod has network namespace '$netns', expected one pinned under $CTRD_DIR/state" ;;
esac
ip="$(crictl_cmd inspectp -o go-template --template '{{.status.network.ip}}' "$pod")"
case "$ip" in
"$SUBNET_PREFIX"*) ;;
*) fail "pod IP '$ip' is not in ${SUBNET_PREFIX}0/24" ;;
esac
addr="$(nsenter --net="$netns" ip -o -4 addr show dev eth0)" || fail "no eth0 in $netns"
grep -q -F " $ip/24 " <<<"$addr" || fail "eth0 in $netns lacks $ip/24: $addr"
nsenter --net="$netns" ip route show default | grep -q "via ${SUBNET_PREFIX}1" ||
	fail "no default route via ${SUBNET_PREFIX}1 in $netns"
nsenter --net="$netns" ip -o link show lo | grep -q 'UP' || fail "lo is not up in $netns"
[ -f "$LEASES/$NET_NAME/$ip" ] || fail "host-local holds no lease file $LEASES/$NET_NAME/$ip"
echo "smoke: pod $pod netns $netns eth0 $ip/24"
step "verify netns, eth0, route, lease"

crictl_cmd stopp "$pod" >/dev/null
step "crictl stopp (CNI DEL)"
crictl_cmd rmp "$pod" >/dev/null
pod_done="$pod"
pod=""
step "crictl rmp"

[ ! -e "$netns" ] || fail "netns $netns still exists after rmp"
[ ! -e "$LEASES/$NET_NAME/$ip" ] || fail "host-local lease $ip still held after stopp"
[ -z "$(crictl_cmd pods -q --id "$pod_done")" ] || fail "crictl still lists pod $pod_done"
step "verify netns and lease released"
echo "smoke: ok"
