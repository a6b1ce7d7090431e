#!/usr/bin/env bash
# quickstart.sh brings Knitter up on this machine and shows it working: knitter-manager on an
# embedded etcd with the objects of examples/bootstrap.yaml, two nodes that are network namespaces
# joined by a veth underlay with a knitter-agent each, and a demo pod on each node attached through
# knitter-plugin as a container runtime would call it (eth0 + overlay + macvlan + VLAN 100 on the
# trunk, tagged by tc eBPF). It prints each pod's interfaces and pings across the nodes.
#
#   hack/quickstart.sh          bring it up (needs root)
#   hack/quickstart.sh status   what runs, each pod's interfaces
#   hack/quickstart.sh down     remove everything it made
#   hack/quickstart.sh --kubernetes [down]   the same on a real local Kubernetes cluster with Knitter
#                               installed from deploy/ (hack/kube/demo.sh)
#
# KNITTER_DEMO_DIR sets the state directory (default /tmp/knitter-local).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PATH:/usr/local/go/bin"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

if [ "$(id -u)" -ne 0 ]; then
	echo "quickstart: run as root: it creates network namespaces and links" >&2
	exit 1
fi
if [ "${1:-}" = --kubernetes ]; then
	shift
	exec hack/kube/demo.sh "$@"
fi
verb=${1:-up}
case "$verb" in
up | status | down) ;;
*)
	echo "usage: hack/quickstart.sh [up|status|down]" >&2
	exit 2
	;;
esac
if [ "$verb" = up ] && ! command -v ip >/dev/null; then
	apt-get update -qq && apt-get install -y -qq iproute2 </dev/null >/dev/null
fi
exec go run ./hack/localcluster "$verb" --dir "${KNITTER_DEMO_DIR:-/tmp/knitter-local}"
