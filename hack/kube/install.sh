# hack/kube/install.sh installs Knitter into a Kubernetes cluster the way an operator does, for both
# hack/kube-up.sh (the local cluster) and hack/kind-up.sh: build the images from the static
# binaries, create the Secrets, `kubectl apply -k deploy/overlays/<overlay>`, mint the agents' and
# the monitor's system tokens once the manager serves, and wait until every node is Ready. Source it; KUBECTL must be a command
# (a function) that talks to the cluster.
# shellcheck shell=bash

# build_images builds the static binaries and the images into $1 (one docker-archive tarball each).
build_images() {
	local out="$1" root
	root="$(repo_root)"
	make -C "$root" build >/dev/null
	CGO_ENABLED=0 go build -C "$root" -trimpath -ldflags '-s -w' -o "$root/_output/knitter-testpod" ./e2e/testimage
	go run -C "$root" ./hack/kubecluster images --bin "$root/_output" --out "$out"
}

# create_secrets PKI_DIR creates the manager's TLS and admin-token Secrets (idempotent).
create_secrets() {
	local p="$1"
	KUBECTL create namespace "$KUBE_NS" --dry-run=client -o yaml | KUBECTL apply -f - >/dev/null
	KUBECTL -n "$KUBE_NS" create secret generic knitter-manager-tls --from-file=ca.crt="$p/knitter-ca.crt" \
		--from-file=tls.crt="$p/knitter-manager.crt" --from-file=tls.key="$p/knitter-manager.key" \
		--dry-run=client -o yaml | KUBECTL apply -f - >/dev/null
	KUBECTL -n "$KUBE_NS" create secret generic knitter-admin-token --from-file=token="$p/knitter-admin.token" \
		--dry-run=client -o yaml | KUBECTL apply -f - >/dev/null
}

# knitterctl_admin runs knitterctl as the manager's admin.
knitterctl_admin() {
	"$(repo_root)/_output/knitterctl" --server "$KNITTER_MANAGER_URL" --ca-file "$KNITTER_PKI/knitter-ca.crt" \
		--token-file "$KNITTER_PKI/knitter-admin.token" "$@"
}

# mint_system_token NAME SECRET creates a system token NAME in the manager and the Secret SECRET
# (key token) that holds it, unless the Secret exists.
mint_system_token() {
	local token
	if KUBECTL -n "$KUBE_NS" get secret "$2" >/dev/null 2>&1; then
		return 0
	fi
	token="$(knitterctl_admin token create "$1" --role system)"
	KUBECTL -n "$KUBE_NS" create secret generic "$2" --from-literal=token="$token" >/dev/null
}

manager_ready() {
	knitterctl_admin tenant get >/dev/null 2>&1
}

# install_knitter OVERLAY applies deploy/overlays/OVERLAY and waits until Knitter serves every node.
install_knitter() {
	local overlay="$1" root
	root="$(repo_root)"
	KUBECTL apply -k "$root/deploy/overlays/$overlay" >/dev/null
	KUBECTL -n "$KUBE_NS" rollout status statefulset/knitter-manager --timeout=5m >/dev/null
	if ! wait_until 120 manager_ready; then
		echo "error: knitter-manager at $KNITTER_MANAGER_URL does not answer; its log:" >&2
		KUBECTL -n "$KUBE_NS" logs statefulset/knitter-manager --tail=30 >&2 || true
		return 1
	fi
	mint_system_token knitter-agents knitter-agent-token
	mint_system_token knitter-monitor knitter-monitor-token
	KUBECTL -n "$KUBE_NS" rollout status daemonset/knitter-agent --timeout=5m >/dev/null
	if KUBECTL -n "$KUBE_NS" get deployment knitter-monitor >/dev/null 2>&1; then
		# The monitors run on the host network with port 9529, one per node: on a one-node cluster
		# the standby could never be scheduled and the rollout would wait for it forever.
		local nodes
		nodes="$(KUBECTL get nodes -o name | wc -l)"
		if [ "$nodes" -lt 2 ]; then
			echo "install: one node, so one knitter-monitor (no standby: both replicas want host port 9529)"
			KUBECTL -n "$KUBE_NS" scale deployment/knitter-monitor --replicas=1 >/dev/null
		fi
		KUBECTL -n "$KUBE_NS" rollout status deployment/knitter-monitor --timeout=5m >/dev/null
	fi
	KUBECTL wait --for=condition=Ready node --all --timeout=5m >/dev/null
}
