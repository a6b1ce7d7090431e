# hack/kube/pki.sh makes the cluster's credentials with openssl: a CA, the API server's serving
# certificate, its client certificate for kubelets, the service-account signing key, bearer tokens
# for every component, kubeconfigs, and Knitter's own CA and manager certificate. Source it.
# shellcheck shell=bash

# pki_issue DIR CA NAME CN O SANS USAGE issues DIR/NAME.{key,crt} signed by DIR/CA.{key,crt}.
pki_issue() {
	local dir="$1" ca="$2" name="$3" cn="$4" o="$5" sans="$6" usage="$7" subj="/CN=$4"
	[ -z "$o" ] || subj="$subj/O=$o"
	openssl ecparam -name prime256v1 -genkey -noout -out "$dir/$name.key" 2>/dev/null
	openssl req -new -key "$dir/$name.key" -subj "$subj" -out "$dir/$name.csr" 2>/dev/null
	{
		echo "keyUsage=critical,digitalSignature,keyEncipherment"
		echo "extendedKeyUsage=$usage"
		[ -z "$sans" ] || echo "subjectAltName=$sans"
	} >"$dir/$name.ext"
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.crt" -CAkey "$dir/$ca.key" -CAcreateserial \
		-days 30 -extfile "$dir/$name.ext" -out "$dir/$name.crt" 2>/dev/null
	rm -f "$dir/$name.csr" "$dir/$name.ext"
	chmod 0600 "$dir/$name.key"
}

# pki_ca DIR NAME CN makes a self-signed CA DIR/NAME.{key,crt}.
pki_ca() {
	openssl ecparam -name prime256v1 -genkey -noout -out "$1/$2.key" 2>/dev/null
	openssl req -x509 -new -key "$1/$2.key" -subj "/CN=$3" -days 30 -out "$1/$2.crt" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
	chmod 0600 "$1/$2.key"
}

random_token() {
	head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

# kubeconfig FILE TOKEN writes a kubeconfig for the local API server with a bearer token.
kubeconfig() {
	cat >"$1" <<-EOK
		apiVersion: v1
		kind: Config
		clusters:
		- name: knitter-kube
		  cluster: {server: "$KUBE_API", certificate-authority: "$KUBE_DIR/pki/ca.crt"}
		users:
		- name: user
		  user: {token: "$2"}
		contexts:
		- name: knitter-kube
		  context: {cluster: knitter-kube, user: user}
		current-context: knitter-kube
	EOK
	chmod 0600 "$1"
}

# make_knitter_pki DIR MANAGER_IP makes Knitter's own CA, the manager's certificate (what an operator
# puts into the Secret knitter-manager-tls) and the admin token. The manager serves on MANAGER_IP.
make_knitter_pki() {
	local p="$1"
	mkdir -p "$p"
	pki_ca "$p" knitter-ca knitter-ca
	pki_issue "$p" knitter-ca knitter-manager knitter-manager "" \
		"IP:$2,IP:127.0.0.1,DNS:knitter-manager,DNS:knitter-manager.$KUBE_NS.svc,DNS:localhost" serverAuth
	random_token >"$p/knitter-admin.token"
	chmod 0600 "$p/knitter-admin.token"
}

# make_pki writes everything into $KUBE_DIR/pki and the kubeconfigs next to it.
make_pki() {
	local p="$KUBE_DIR/pki" i t
	mkdir -p "$p"
	pki_ca "$p" ca knitter-kube-ca
	pki_issue "$p" ca apiserver kube-apiserver "" \
		"IP:$KUBE_API_IP,IP:127.0.0.1,IP:10.252.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc" serverAuth
	pki_issue "$p" ca apiserver-kubelet-client kube-apiserver-kubelet-client system:masters "" clientAuth
	openssl ecparam -name prime256v1 -genkey -noout -out "$p/sa.key" 2>/dev/null
	openssl ec -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
	chmod 0600 "$p/sa.key"
	make_knitter_pki "$p" "$(node_ip 1)"

	: >"$p/tokens.csv"
	chmod 0600 "$p/tokens.csv"
	t="$(random_token)"
	echo "$t,kubernetes-admin,admin,system:masters" >>"$p/tokens.csv"
	kubeconfig "$KUBECONFIG_ADMIN" "$t"
	t="$(random_token)"
	echo "$t,system:kube-controller-manager,kube-controller-manager" >>"$p/tokens.csv"
	kubeconfig "$KUBE_DIR/controller-manager.kubeconfig" "$t"
	t="$(random_token)"
	echo "$t,system:kube-scheduler,kube-scheduler" >>"$p/tokens.csv"
	kubeconfig "$KUBE_DIR/scheduler.kubeconfig" "$t"
	# Every node the cluster can have (9) gets its token now: kube-apiserver reads tokens.csv once,
	# and hack/kube-up.sh --add-node brings up a node later with one of these.
	for i in $(seq 9); do
		t="$(random_token)"
		echo "$t,system:node:$(node_name "$i"),node-$i,system:nodes" >>"$p/tokens.csv"
		kubeconfig "$p/kubelet-$(node_name "$i").kubeconfig" "$t"
	done
}
