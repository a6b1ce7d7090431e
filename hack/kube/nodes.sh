# hack/kube/nodes.sh is one node's bring-up, shared by hack/kube-up.sh's first nodes and by
# hack/kube-up.sh --add-node (a node joining the running cluster). Source it after lib.sh; the
# functions use $here (hack/), $KUBE_BIN, $KUBE_DIR/pki and the loopback plugin in $cni_ref.
#
# shellcheck shell=bash

# node_start I makes node I's directories, configuration, cgroups, network namespace and veths,
# and starts its init (hack/kube/node.sh: mounts, containerd, kubelet) in a private mount namespace.
node_start() {
	local i="$1" name d mp h f j p="$KUBE_DIR/pki"
	name="$(node_name "$i")"
	d="$(node_dir "$i")"
	mkdir -p "$d"
	cp "$p/kubelet-$name.kubeconfig" "$d/kubelet.kubeconfig"
	for mp in "${KUBE_NODE_PATHS[@]}"; do mkdir -p "$d/root$mp"; done
	cp "$cni_ref/loopback" "$d/root/opt/cni/bin/loopback"
	for f in containerd.toml kubelet.yaml; do
		sed -e "s|@PAUSE_IMAGE@|$KUBE_PAUSE_IMAGE|g" -e "s|@CGROUP_ROOT@|/$name|g" \
			-e "s|@NODE_IP@|$(node_ip "$i")|g" -e "s|@CA_FILE@|$p/ca.crt|g" "$here/kube/$f.tmpl" >"$d/$f"
	done
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
}

# node_wait_containerd I waits for node I's containerd socket.
node_wait_containerd() {
	local d
	d="$(node_dir "$1")"
	if ! wait_until 60 test -S "$d/root/run/containerd/containerd.sock"; then
		echo "error: containerd of $(node_name "$1") did not start; the end of $d/containerd.log:" >&2
		tail -n 20 "$d/containerd.log" >&2
		return 1
	fi
}

# node_import_images I imports kube-up's images (knitter, test pod, pause) into node I's containerd.
node_import_images() {
	local sock tarball
	sock="$(node_dir "$1")/root/run/containerd/containerd.sock"
	for tarball in "$KUBE_DIR"/images/*.tar; do
		ctr --address "$sock" -n k8s.io images import --no-unpack=false "$tarball" >/dev/null
	done
}

# node_wait_registered I waits until node I's kubelet has registered the node.
node_wait_registered() {
	if ! wait_until 120 kubectl get node "$(node_name "$1")"; then
		echo "error: node $(node_name "$1") did not register; the end of its kubelet log:" >&2
		tail -n 20 "$(node_dir "$1")/kubelet.log" >&2
		return 1
	fi
}
