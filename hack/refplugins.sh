#!/usr/bin/env bash
# refplugins.sh builds the reference CNI plugins that Knitter is measured and tested against (bridge,
# macvlan, host-local, loopback from github.com/containernetworking/plugins) into one directory. It
# builds only what is missing or was built from another version or by another Go, so it is cheap to
# run again.
#
# Usage: hack/refplugins.sh [DIR]     DIR defaults to .cache/cni-bin in the work tree.
#
# The module proxy serves the plugins module, so no git clone is needed. The binaries are static
# (CGO_ENABLED=0), as the plugins' own releases are, so that their start-up time is comparable.
set -euo pipefail
# shellcheck source=hack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PLUGINS_MODULE="github.com/containernetworking/plugins"
PLUGINS_VERSION="v1.10.0"
# Binary name and package path inside the module.
PLUGINS=(
	"bridge plugins/main/bridge"
	"macvlan plugins/main/macvlan"
	"host-local plugins/ipam/host-local"
	"loopback plugins/main/loopback"
)

case "${1:-}" in
-h | --help)
	awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"
	exit 0
	;;
esac

need_go
dir="${1:-$(repo_root)/.cache/cni-bin}"
mkdir -p "$dir"
# go install wants an absolute GOBIN.
dir="$(cd "$dir" && pwd)"

# current says whether bin was built from PLUGINS_MODULE@PLUGINS_VERSION by the Go in use.
current() {
	local bin="$1" info
	[ -x "$bin" ] || return 1
	info="$(go version -m "$bin" 2>/dev/null)" || return 1
	grep -q -P "^\tmod\t${PLUGINS_MODULE//./\\.}\t${PLUGINS_VERSION//./\\.}\t" <<<"$info" || return 1
	[ "$(head -n 1 <<<"$info" | awk '{print $2}')" = "$(go env GOVERSION)" ]
}

todo=()
for entry in "${PLUGINS[@]}"; do
	name="${entry%% *}"
	if ! current "$dir/$name"; then
		todo+=("$PLUGINS_MODULE/${entry#* }@$PLUGINS_VERSION")
	fi
done

if [ "${#todo[@]}" -eq 0 ]; then
	echo "refplugins: up to date in $dir"
	exit 0
fi
echo "refplugins: go install ${todo[*]} -> $dir"
# GOFLAGS is replaced so that a caller's -mod or -tags cannot leak into a build of another module.
GOBIN="$dir" GOFLAGS="-trimpath" CGO_ENABLED=0 go install "${todo[@]}"
ls -l "$dir"
