#!/usr/bin/env bash
# quickstart.sh brings up Knitter's control plane on this machine and shows it working:
# knitter-manager on an embedded etcd with the objects of examples/bootstrap.yaml, then knitterctl
# allocating a demo pod with three interfaces. `hack/quickstart.sh down` stops it and removes its data.
#
#   KNITTER_DEMO_DIR   state directory (default /tmp/knitter-demo)
#   KNITTER_DEMO_PORT  API port on 127.0.0.1 (default 9527)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PATH:/usr/local/go/bin"

dir=${KNITTER_DEMO_DIR:-/tmp/knitter-demo}
port=${KNITTER_DEMO_PORT:-9527}
pidfile=$dir/manager.pid

down() {
	if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
		kill "$(cat "$pidfile")"
		for _ in $(seq 100); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
		echo "knitter-manager stopped"
	fi
	rm -rf "$dir"
	echo "removed $dir"
}

if [ "${1:-up}" = down ]; then
	down
	exit 0
fi
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
	echo "a demo is already running (pid $(cat "$pidfile")); run 'hack/quickstart.sh down' first" >&2
	exit 1
fi

echo "==> building (make build)"
make build >/dev/null
mkdir -p "$dir"

echo "==> starting knitter-manager on 127.0.0.1:$port with an embedded etcd in $dir"
nohup _output/knitter-manager --data-dir "$dir" --listen "127.0.0.1:$port" \
	--bootstrap examples/bootstrap.yaml >"$dir/manager.log" 2>&1 &
echo $! >"$pidfile"

export KNITTER_SERVER="https://127.0.0.1:$port" KNITTER_CA_FILE="$dir/pki/ca.crt" KNITTER_TOKEN_FILE="$dir/admin.token"
ctl=_output/knitterctl
for i in $(seq 300); do
	if [ -f "$KNITTER_CA_FILE" ] && $ctl tenant get >/dev/null 2>&1; then break; fi
	if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
		echo "knitter-manager exited; its log:" >&2
		cat "$dir/manager.log" >&2
		exit 1
	fi
	[ "$i" -lt 300 ] || { echo "knitter-manager did not become ready; see $dir/manager.log" >&2; exit 1; }
	sleep 0.1
done

echo "==> networks (from examples/bootstrap.yaml)"
$ctl network get
echo
echo "==> allocating a demo pod: eth0 on the tenant's default overlay network, net1 on VLAN 100, net2 on macvlan"
$ctl pod allocate --uid demo-pod-1 --namespace demo --name web-0 \
	--network demo-overlay@eth0 --network demo-vlan100@net1 --network demo-macvlan@net2
echo
echo "==> the same request again is idempotent (same addresses)"
$ctl pod allocate --uid demo-pod-1 --namespace demo --name web-0 \
	--network demo-overlay@eth0 --network demo-vlan100@net1 --network demo-macvlan@net2 >/dev/null
$ctl port get --pod demo-pod-1
echo
$ctl network describe demo/demo-overlay
cat <<MSG

knitter-manager is running (pid $(cat "$pidfile"), log $dir/manager.log). Try it:
  export KNITTER_SERVER=$KNITTER_SERVER KNITTER_CA_FILE=$KNITTER_CA_FILE KNITTER_TOKEN_FILE=$KNITTER_TOKEN_FILE
  $ctl tenant get
Stop it and remove its data with:
  hack/quickstart.sh down
MSG
