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

while [ $# -gt 0 ]; do
	case "$1" in
	--nodes) KUBE_NODES="$2"; shift 2 ;;
	-h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; exit 0 ;;
	*) echo "error: unknown argument $1 (see $0 --help)" >&2; exit 2 ;;
	esac
done
case "$KUBE_NODES" in
[1-9]) ;;
*) echo "error: --nodes $KUBE_NODES: give 1 to 9 nodes" >&2; exit 2 ;;
esac
need_root
need_go
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
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
cni_ref="$(repo_root)/.cache/cni-bin"
"$here/refplugins.sh" "$cni_ref" >/dev/null
step "containerd, runc, loopback plugin"

mkdir -p "$KUBE_DIR"
touch "$KUBE_MARKER"
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
for i in $(seq "$KUBE_NODES"); do
	name="$(node_name "$i")"
	d="$(node_dir "$i")"
	for mp in "${KUBE_NODE_PATHS[@]}"; do mkdir -p "$d/root$mp"; done
	cp "$cni_ref/loopback" "$d/root/opt/cni/bin/loopback"
	render() { sed -e "s|@PAUSE_IMAGE@|$KUBE_PAUSE_IMAGE|g" -e "s|@CGROUP_ROOT@|/$name|g" \
		-e "s|@NODE_IP@|$(node_ip "$i")|g" -e "s|@CA_FILE@|$p/ca.crt|g" "$1"; }
	render "$here/kube/containerd.toml.tmpl" >"$d/containerd.toml"
	render "$here/kube/kubelet.yaml.tmpl" >"$d/kubelet.yaml"
	for h in $(cgroup_hierarchies); do
		mkdir -p "$KUBE_CGROUP_ROOT/$h/$name/node"
		if [ "$h" = cpuset ]; then
			for f in cpuset.cpus cpuset.mems; do
				cat "$KUBE_CGROUP_ROOT/cpuset/$f" >"$KUBE_CGROUP_ROOT/cpuset/$name/$f"
				cat "$KUBE_CGROUP_ROOT/cpuset/$f" >"$KUBE_CGROUP_ROOT/cpuset/$name/node/$f"
			done
		fi
	done
	ip netns add "$name"
	for j in 0 1 2; do
		ip link add "$name-e$j" type veth peer name "eth$j" netns "$name"
		ip link set "$name-e$j" master "knk$j" up
		ip -n "$name" link set "eth$j" up
	done
	ip -n "$name" link set lo up
	ip -n "$name" addr add "$(node_ip "$i")/24" dev eth0
	ip -n "$name" route add default via "$KUBE_API_IP"
	setsid unshare --mount --propagation private nsenter --net="/run/netns/$name" \
		"$here/kube/node.sh" "$i" </dev/null >>"$d/node.log" 2>&1 &
	echo $! >"$d/node.pid"
done
for i in $(seq "$KUBE_NODES"); do
	d="$(node_dir "$i")"
	if ! wait_until 60 test -S "$d/root/run/containerd/containerd.sock"; then
		echo "error: containerd of $(node_name "$i") did not start; the end of $d/containerd.log:" >&2
		tail -n 20 "$d/containerd.log" >&2
		exit 1
	fi
done
step "nodes: netns, mounts, cgroups, containerd, kubelet"

for i in $(seq "$KUBE_NODES"); do
	sock="$(node_dir "$i")/root/run/containerd/containerd.sock"
	for tarball in "$KUBE_DIR"/images/*.tar; do
		ctr --address "$sock" -n k8s.io images import --no-unpack=false "$tarball" >/dev/null
	done
done
step "images imported into every node's containerd"

for i in $(seq "$KUBE_NODES"); do
	if ! wait_until 120 kubectl get node "$(node_name "$i")"; then
		echo "error: node $(node_name "$i") did not register; the end of its kubelet log:" >&2
		tail -n 20 "$(node_dir "$i")/kubelet.log" >&2
		exit 1
	fi
done
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
