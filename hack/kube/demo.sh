#!/usr/bin/env bash
# hack/kube/demo.sh is `hack/quickstart.sh --kubernetes`: the local Kubernetes cluster with Knitter
# installed from deploy/ (hack/kube-up.sh), the networks of examples/bootstrap.yaml created through
# the manager's API, and the workload of examples/kubernetes/demo.yaml; it prints the pods, each
# pod's interfaces, and pings from a pod on one node to a pod on the other on every network.
#
#   hack/quickstart.sh --kubernetes         up (builds what is missing; the first run builds Kubernetes)
#   hack/quickstart.sh --kubernetes down    remove everything (hack/kube-down.sh)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/kube/lib.sh
. "$here/lib.sh"
root="$(repo_root)"
case "${1:-up}" in
down) exec "$root/hack/kube-down.sh" ;;
up) ;;
*) echo "usage: hack/quickstart.sh --kubernetes [up|down]" >&2; exit 2 ;;
esac

[ -e "$KUBE_MARKER" ] || "$root/hack/kube-up.sh"
# shellcheck disable=SC1091
. "$KUBE_DIR/env"
STEP_START="$(now_ms)"
go run -C "$root" ./hack/kubecluster bootstrap "$root/examples/bootstrap.yaml"
kubectl() { "$KUBE_BIN/kubectl" "$@"; }
KUBE_BIN="$(dirname "$(command -v kube-apiserver)")"
kubectl apply -f "$root/examples/kubernetes/demo.yaml" >/dev/null
kubectl -n demo rollout status deployment/web --timeout=3m >/dev/null
kubectl -n demo rollout status statefulset/db --timeout=3m >/dev/null
step "demo workload Running"

echo
kubectl -n demo get pods -o wide
for p in $(kubectl -n demo get pods -o name); do
	echo
	echo "== ${p#pod/} ($(kubectl -n demo get "$p" -o jsonpath='{.spec.nodeName}'))"
	kubectl -n demo exec "${p#pod/}" -- ip -j addr | python3 -c '
import json, sys
for l in json.load(sys.stdin):
    if l["ifname"] == "lo": continue
    addrs = [a["local"] + "/" + str(a["prefixlen"]) for a in l["addr_info"] if a["scope"] == "global"]
    print("  %-5s %s mtu %-5d %s" % (l["ifname"], l["address"], l["mtu"], " ".join(addrs)))'
done

# A pod on the first node pings the StatefulSet pod on the other node on each of its networks.
node1="$(node_name 1)"
from="$(kubectl -n demo get pods -l app=web -o jsonpath="{.items[?(@.spec.nodeName=='$node1')].metadata.name}")"
to="$(kubectl -n demo get pods -l app=db -o jsonpath="{.items[?(@.spec.nodeName!='$node1')].metadata.name}")"
echo
for ip in $(kubectl -n demo exec "$to" -- ip -j addr | python3 -c '
import json, sys
for l in json.load(sys.stdin):
    if l["ifname"] == "lo": continue
    for a in l["addr_info"]:
        if a["scope"] == "global": print(a["local"])'); do
	printf 'ping %s (%s) -> %s (%s): ' "$from" "$node1" "$to" "$ip"
	kubectl -n demo exec "$from" -- ping -W 10 "$ip"
done
echo
echo "quickstart: . $KUBE_DIR/env, then kubectl and knitterctl work; 'hack/quickstart.sh --kubernetes down' removes it all"
