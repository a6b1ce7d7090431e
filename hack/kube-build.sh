#!/usr/bin/env bash
# hack/kube-build.sh builds kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and kubectl
# from the k8s.io/kubernetes module and caches them outside the work tree, so a fresh clone (CI) on the
# same machine reuses them. Only the first run pays the build (~15-20 min cold on 2 cores).
#
#   hack/kube-build.sh            build what is missing, print the cache directory's bin/ path last
#   KUBE_VERSION=1.37.2           the k8s.io/kubernetes release (staging modules pinned to v0.<minor>.<patch>)
#   KNITTER_KUBE_CACHE=/var/cache/knitter/kube   where the wrapper module and binaries live
set -euo pipefail

export PATH="$PATH:/usr/local/go/bin"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
version="${KUBE_VERSION:-1.37.2}"
staging="v0.${version#*.}"
cache="${KNITTER_KUBE_CACHE:-/var/cache/knitter/kube}/v${version}"
bin="$cache/bin"
cmds=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)

missing=()
for c in "${cmds[@]}"; do [ -x "$bin/$c" ] || missing+=("$c"); done
if [ ${#missing[@]} -eq 0 ]; then
	echo "kube-build: cached in $bin (${cmds[*]})" >&2
	echo "$bin"
	exit 0
fi

mkdir -p "$cache/src" "$bin"
cd "$cache/src"
if [ ! -f go.mod ]; then
	echo "kube-build: writing the wrapper module for k8s.io/kubernetes v$version (staging $staging)" >&2
	go mod download -json "k8s.io/kubernetes@v$version" >/dev/null
	modfile="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/v$version.mod"
	{
		echo "module knitter.local/kubebuild"
		echo
		echo "go $(awk '/^go /{print $2; exit}' "$modfile")"
		echo
		echo "require k8s.io/kubernetes v$version"
		echo
		echo "replace ("
		grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging' "$modfile" | awk -v v="$staging" '{print "\t" $1 " => " $1 " " v}'
		echo ")"
	} >go.mod.new
	cat >tools.go <<'GO'
//go:build tools

package kubebuild

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
	_ "k8s.io/kubectl/pkg/cmd"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
	mv go.mod.new go.mod
	echo "kube-build: go mod tidy" >&2
	go mod tidy -e >&2
fi

for c in "${missing[@]}"; do
	start=$SECONDS
	echo "kube-build: building $c ..." >&2
	CGO_ENABLED=0 go build -p "$(nproc)" -trimpath -ldflags '-s -w' -tags tools -o "$bin/$c.tmp" "k8s.io/kubernetes/cmd/$c"
	mv "$bin/$c.tmp" "$bin/$c"
	echo "kube-build: $c built in $((SECONDS - start))s" >&2
done
echo "$bin"
