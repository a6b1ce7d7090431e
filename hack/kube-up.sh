#!/usr/bin/env bash
# hack/kube-up.sh brings up a real Kubernetes cluster on this machine and installs Knitter into it
# from deploy/ the way an operator would:
#
#   1. the Kubernetes binaries (hack/kube-build.sh; built once, then cached);
#   2. Knitter's images (FROM scratch, built from the static binaries with go-containerregistry);
#   3. etcd (embedded, hack/kubecluster), kube-apiserver on 10.251.0.1:6443 (a host bridge only the
#      nodes are on), kube-controller-manager and kube-scheduler;
#   4. N nodes: each a network namespace on the bridges knk0-2 and a private mount namespace whose
#      node-local paths (/etc/cni/net.d, /opt/cni/bin, /run/knitter, /var/lib/kubelet, containerd's
#      state, ...) are its own directories, running containerd 1.6 and kubelet in its own cgroup;
#   5. the images imported into every node's containerd, `kubectl apply -k deploy/overlays/local`,
#      the agents' token, and every node Ready.
#
# Usage: hack/kube-up.sh [--nodes N]     (environment: see hack/kube/lib.sh)
#        hack/kube-up.sh --add-node      one more node joins the running cluster (steps 4 and 5 for it:
#                                        the same functions, hack/kube/nodes.sh); it prints the node's
#                                        name once the node is Ready and its knitter-agent pod is ready
# Then:  export KUBECONFIG=/var/lib/knitter-kube/admin.kubeconfig   (or source .../env)
# Remove everything with hack/kube-down.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/kube/lib.sh
. "$here/kube/lib.sh"
# shellcheck source=hack/kube/pki.sh
. "$here/kube/pki.sh"
# shellcheck source=hack/kube/install.sh
. "$here/kube/install.sh"
# shellcheck source=hack/kube/nodes.sh
. "$here/kube/nodes.sh"

while [ $# -gt 0 ]; do
	case "$1" in
	--nodes) KUBE_NODES="$2"; shift 2 ;;
	--add-node) add_node=1; shift ;;
	-h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; exit 0 ;;
	*) echo "error: unknown argument $1 (see $0 --help)" >&2; exit 2 ;;
	esac
done
case "$KUBE_NODES" in
[1-9]) ;;
*) echo "error: --nodes $KUBE_NODES: give 1 to 9 nodes" >&2; exit 2 ;;
esac
need_root
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
cni_ref="$(repo_root)/.cache/cni-bin"
if [ "${add_node:-}" = 1 ]; then
	if [ ! -e "$KUBE_MARKER" ] || [ ! -f "$KUBE_DIR/kube-bin" ]; then
		echo "error: --add-node: no cluster up in $KUBE_DIR; bring one up with hack/kube-up.sh first" >&2
		exit 1
	fi
	KUBE_BIN="$(cat "$KUBE_DIR/kube-bin")"
	export KUBE_BIN # node.sh runs kubelet from it
	i=1
	while [ -e "$(node_dir "$i")" ]; do i=$((i + 1)); done
	if [ "$i" -gt 9 ]; then
		echo "error: --add-node: the cluster has 9 nodes, the most it can have" >&2
		exit 1
	fi
	name="$(node_name "$i")"
	trap 'echo "kube-up --add-node: $name failed; hack/kube-down.sh removes it with the cluster (logs under $(node_dir "$i"))" >&2' ERR
	node_start "$i" >&2
	node_wait_containerd "$i"
	node_import_images "$i"
	node_wait_registered "$i"
	kubectl wait --for=condition=Ready "node/$name" --timeout=120s >&2
	if ! wait_until 120 kubectl -n "$KUBE_NS" get pods -l app.kubernetes.io/name=knitter-agent \
		--field-selector "spec.nodeName=$name" -o name --no-headers; then
		echo "error: no knitter-agent pod was scheduled to $name in 120s" >&2
		exit 1
	fi
	kubectl -n "$KUBE_NS" wait --for=condition=Ready pod -l app.kubernetes.io/name=knitter-agent \
		--field-selector "spec.nodeName=$name" --timeout=120s >&2
	step "node $name added: Ready, its knitter-agent ready" >&2
	echo "$name"
	exit 0
fi
need_go
if [ -e "$KUBE_MARKER" ]; then
	echo "error: a cluster is already up in $KUBE_DIR; remove it first with hack/kube-down.sh" >&2
	exit 1
fi
if ip link show knk0 >/dev/null 2>&1; then
	echo "error: the bridge knk0 exists but $KUBE_DIR does not say it is ours; remove it or run hack/kube-down.sh" >&2
	exit 1
fi
t0="$(now_ms)"
trap 'echo "kube-up: failed; hack/kube-down.sh removes what was made (logs under $KUBE_DIR)" >&2' ERR

KUBE_BIN="$("$here/kube-build.sh")"
export KUBE_BIN
step "kubernetes binaries ($KUBE_BIN)"

missing=()
for c in containerd runc containerd-shim-runc-v2 ctr; do
	command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "kube-up: installing containerd and runc (missing ${missing[*]})"
	"$here/install-tools.sh" containerd runc
fi
"$here/refplugins.sh" "$cni_ref" >/dev/null
step "containerd, runc, loopback plugin"

mkdir -p "$KUBE_DIR"
touch "$KUBE_MARKER"
echo "$KUBE_BIN" >"$KUBE_DIR/kube-bin"
mkdir -p "$KUBE_DIR/images" "$KUBE_DIR/etcd" "$KUBE_DIR/logs"
build_images "$KUBE_DIR/images" >"$KUBE_DIR/images/list"
"$here/containerd/pause-image.sh" "$KUBE_PAUSE_IMAGE" "$KUBE_DIR/images/pause.tar" >/dev/null
step "images (knitter, test pod, pause)"

make_pki
for s in "${KUBE_SYSCTLS[@]}"; do
	echo "$s=$(sysctl -n "$s")"
done >"$KUBE_DIR/sysctls"
step "certificates, tokens, kubeconfigs"

# Control plane.
ip link add knk0 type bridge
ip addr add "$KUBE_API_IP/24" dev knk0
ip link set knk0 up
for j in 1 2; do
	ip link add "knk$j" type bridge
	ip link set "knk$j" up
done
start_bg() { # start_bg NAME CMD... runs CMD detached with its pid in $KUBE_DIR/NAME.pid
	local n="$1"
	shift
	setsid "$@" </dev/null >>"$KUBE_DIR/logs/$n.log" 2>&1 &
	echo $! >"$KUBE_DIR/$n.pid"
}
go build -C "$(repo_root)" -o "$KUBE_DIR/kubecluster" ./hack/kubecluster
start_bg etcd "$KUBE_DIR/kubecluster" etcd --data-dir "$KUBE_DIR/etcd" --listen "$KUBE_ETCD"
p="$KUBE_DIR/pki"
start_bg kube-apiserver "$KUBE_BIN/kube-apiserver" --etcd-servers "http://$KUBE_ETCD" \
	--bind-address "$KUBE_API_IP" --advertise-address "$KUBE_API_IP" --secure-port 6443 \
	--endpoint-reconciler-type=none --kubelet-preferred-address-types=InternalIP \
	--service-cluster-ip-range "$KUBE_SERVICE_CIDR" --allow-privileged=true \
	--authorization-mode=Node,RBAC --token-auth-file "$p/tokens.csv" --client-ca-file "$p/ca.crt" \
	--tls-cert-file "$p/apiserver.crt" --tls-private-key-file "$p/apiserver.key" \
	--kubelet-client-certificate "$p/apiserver-kubelet-client.crt" --kubelet-client-key "$p/apiserver-kubelet-client.key" \
	--service-account-issuer https://kubernetes.default.svc --service-account-key-file "$p/sa.pub" \
	--service-account-signing-key-file "$p/sa.key" --profiling=false
if ! wait_until 180 kubectl get --raw /readyz; then
	echo "error: kube-apiserver did not become ready in 180s; the end of its log:" >&2
	tail -n 20 "$KUBE_DIR/logs/kube-apiserver.log" >&2
	exit 1
fi
step "etcd and kube-apiserver ready"
start_bg kube-controller-manager "$KUBE_BIN/kube-controller-manager" --kubeconfig "$KUBE_DIR/controller-manager.kubeconfig" \
	--service-account-private-key-file "$p/sa.key" --root-ca-file "$p/ca.crt" --leader-elect=false \
	--secure-port 0 --use-service-account-credentials=true --profiling=false
start_bg kube-scheduler "$KUBE_BIN/kube-scheduler" --kubeconfig "$KUBE_DIR/scheduler.kubeconfig" \
	--leader-elect=false --secure-port 0 --profiling=false
step "controller-manager and scheduler started"

# Nodes.
echo "$(cgroup_hierarchies | tr '\n' ' ')" >"$KUBE_DIR/cgroups"
: >"$KUBE_DIR/mountpoints"
for mp in "${KUBE_NODE_PATHS[@]}"; do
	if [ ! -e "$mp" ]; then
		mkdir -p "$mp"
		echo "$mp" >>"$KUBE_DIR/mountpoints"
	fi
done
for i in $(seq "$KUBE_NODES"); do node_start "$i"; done
for i in $(seq "$KUBE_NODES"); do node_wait_containerd "$i"; done
step "nodes: netns, mounts, cgroups, containerd, kubelet"
for i in $(seq "$KUBE_NODES"); do node_import_images "$i"; done
step "images imported into every node's containerd"
for i in $(seq "$KUBE_NODES"); do node_wait_registered "$i"; done
kubectl label node "$(node_name 1)" knitter.io/manager=true >/dev/null
step "nodes registered"

KUBECTL() { kubectl "$@"; }
KNITTER_MANAGER_URL="https://$(node_ip 1):9527"
KNITTER_PKI="$p"
create_secrets "$p"
install_knitter local
step "knitter installed (kubectl apply -k deploy/overlays/local), nodes Ready"

cat >"$KUBE_DIR/env" <<EOK
# Source this file to use the local Kubernetes cluster and its Knitter.
export KUBECONFIG="$KUBECONFIG_ADMIN"
export PATH="$KUBE_BIN:\$PATH"
export KNITTER_SERVER="$KNITTER_MANAGER_URL"
export KNITTER_CA_FILE="$p/knitter-ca.crt"
export KNITTER_TOKEN_FILE="$p/knitter-admin.token"
EOK
trap - ERR
echo "kube-up: cluster up in $(((($(now_ms) - t0)) / 1000)) s: $KUBE_NODES nodes, Knitter from deploy/overlays/local"
kubectl get nodes -o wide
kubectl -n "$KUBE_NS" get pods -o wide
echo "kube-up: . $KUBE_DIR/env   (kubectl, knitterctl);  hack/kube-down.sh removes it all"
