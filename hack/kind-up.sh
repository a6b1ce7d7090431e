#!/usr/bin/env bash
# hack/kind-up.sh is hack/kube-up.sh on a kind cluster, for machines with Docker (or Podman) and
# internet access: a control plane and a worker created with kind as a Go library (hack/kubecluster
# kind; kind's default CNI disabled), Knitter's images loaded into the nodes, and Knitter installed
# with `kubectl apply -k deploy/overlays/kind` by the same steps as the local cluster
# (hack/kube/install.sh). hack/kind-up.sh down deletes the cluster.
#
# It cannot run on a machine without a container engine and a reachable registry for kind's node
# image, and says so; hack/kube-up.sh is the path that runs everywhere else.
#
#   KNITTER_KIND_NAME (default knitter), KNITTER_KIND_DIR (default /var/lib/knitter-kind), kubectl on PATH
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/kube/lib.sh
. "$here/kube/lib.sh"
# shellcheck source=hack/kube/pki.sh
. "$here/kube/pki.sh"
# shellcheck source=hack/kube/install.sh
. "$here/kube/install.sh"
name="${KNITTER_KIND_NAME:-knitter}"
dir="${KNITTER_KIND_DIR:-/var/lib/knitter-kind}"
kc="$dir/kubeconfig"
kubecluster() { go run -C "$(repo_root)" ./hack/kubecluster "$@"; }

if [ "${1:-}" = down ]; then
	kubecluster kind down --name "$name" --kubeconfig "$kc"
	rm -rf "$dir"
	echo "kind-up: deleted kind cluster $name and $dir"
	exit 0
fi
need_go
if ! docker info >/dev/null 2>&1 && ! podman info >/dev/null 2>&1; then
	echo "kind-up: cannot run here: no container engine answers (docker info, podman info) to run kind's node containers," >&2
	echo "kind-up: and kind's node image comes from a registry this machine cannot reach. Use hack/kube-up.sh:" >&2
	echo "kind-up: it runs the same install (hack/kube/install.sh, deploy/) on network-namespace nodes." >&2
	exit 1
fi
KUBECTL() { kubectl --kubeconfig "$kc" "$@"; }
mkdir -p "$dir/images"
build_images "$dir/images" >/dev/null
step "images"
kubecluster kind up --name "$name" --kubeconfig "$kc" --images "$dir/images"
step "kind cluster, images loaded"
manager_ip="$(KUBECTL get node -l knitter.io/manager=true -o jsonpath='{.items[0].status.addresses[?(@.type=="InternalIP")].address}')"
make_knitter_pki "$dir/pki" "$manager_ip"
KNITTER_MANAGER_URL="https://$manager_ip:9527"
KNITTER_PKI="$dir/pki"
create_secrets "$dir/pki"
install_knitter kind
step "knitter installed (kubectl apply -k deploy/overlays/kind), nodes Ready"
cat >"$dir/env" <<EOK
export KUBECONFIG="$kc"
export KNITTER_SERVER="$KNITTER_MANAGER_URL"
export KNITTER_CA_FILE="$dir/pki/knitter-ca.crt"
export KNITTER_TOKEN_FILE="$dir/pki/knitter-admin.token"
EOK
echo "kind-up: . $dir/env; KNITTER_E2E_DRIVER=kube go test ./e2e/ runs the suite on it; hack/kind-up.sh down removes it"
