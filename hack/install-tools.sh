#!/usr/bin/env bash
# install-tools.sh installs what building, checking and testing Knitter needs, and only what is
# missing, so it is cheap to run again (CI runs it on every build).
#
# Usage: hack/install-tools.sh [--go-only] [APT_PACKAGE...]
#
#   Go tools      built with `go install` into .cache/bin (git-ignored), at the versions pinned below.
#   apt packages  the ones named as arguments, or by default the fixed list below; apt-get update and
#                 install run only when `dpkg -s` says one of them is not installed.
#   --go-only     skips apt entirely (what `make` uses to fetch staticcheck on demand).
#
# It works as root on a fresh Debian 12 whose Go lives in /usr/local/go even when PATH lacks it.
set -euo pipefail
# shellcheck source=hack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Go tools as "name module/cmd@version". staticcheck 2026.2.2 (module v0.8.2) is the release that
# understands Go 1.26; a newer Go usually needs a newer staticcheck, so bump the two together.
GO_TOOLS=(
	"staticcheck honnef.co/go/tools/cmd/staticcheck@v0.8.2"
)

# Debian packages the tests need: iproute2 (ip, for network-namespace tests), and gcc with the C
# library headers because `go test -race` needs cgo, and iperf3 for the VLAN throughput benchmark.
DEFAULT_APT_PACKAGES=(iproute2 gcc libc6-dev iperf3)

TOOLS_BIN="${TOOLS_BIN:-$(repo_root)/.cache/bin}"

# go_tool_current says whether bin was built from exactly module@version by the Go in use: a tool
# built by an older Go may reject code written for the newer one.
go_tool_current() {
	local bin="$1" module="$2" version="$3" info
	[ -x "$bin" ] || return 1
	info="$(go version -m "$bin" 2>/dev/null)" || return 1
	grep -q -P "^\tmod\t${module//./\\.}\t${version//./\\.}\t" <<<"$info" || return 1
	[ "$(head -n 1 <<<"$info" | awk '{print $2}')" = "$(go env GOVERSION)" ]
}

install_go_tools() {
	need_go
	mkdir -p "$TOOLS_BIN"
	local entry name pkg version module bin
	for entry in "${GO_TOOLS[@]}"; do
		name="${entry%% *}"
		pkg="${entry#* }"
		version="${pkg##*@}"
		pkg="${pkg%@*}"
		module="${pkg%/cmd/*}"
		bin="$TOOLS_BIN/$name"
		if go_tool_current "$bin" "$module" "$version"; then
			# Make compares times: mark the tool as newer than this script so it is not asked again.
			touch "$bin"
			continue
		fi
		echo "install-tools: go install $pkg@$version -> $TOOLS_BIN"
		GOBIN="$TOOLS_BIN" GOFLAGS="" go install "$pkg@$version"
	done
}

install_apt_packages() {
	local missing=() pkg status
	for pkg in "$@"; do
		# Captured, not piped: grep -q closing the pipe early would fail dpkg with SIGPIPE under pipefail.
		status="$(dpkg -s "$pkg" 2>/dev/null || true)"
		if ! grep -q '^Status: install ok installed$' <<<"$status"; then
			missing+=("$pkg")
		fi
	done
	[ "${#missing[@]}" -gt 0 ] || return 0

	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		if ! command -v sudo >/dev/null 2>&1; then
			echo "error: missing Debian packages (${missing[*]}) and not root; run this script as root" >&2
			exit 1
		fi
		sudo=(sudo)
	fi
	echo "install-tools: apt-get install ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# dpkg's maintainer scripts need ldconfig and friends, which live in the sbin directories that a
	# bare environment's PATH may lack.
	export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
}

main() {
	local go_only=0 apt_packages=()
	local arg
	for arg in "$@"; do
		case "$arg" in
		--go-only) go_only=1 ;;
		-h | --help)
			awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"
			return 0
			;;
		-*)
			echo "error: unknown option $arg (see $0 --help)" >&2
			exit 2
			;;
		*) apt_packages+=("$arg") ;;
		esac
	done
	[ "${#apt_packages[@]}" -gt 0 ] || apt_packages=("${DEFAULT_APT_PACKAGES[@]}")

	if [ "$go_only" -eq 0 ]; then
		install_apt_packages "${apt_packages[@]}"
	fi
	install_go_tools
}

main "$@"
