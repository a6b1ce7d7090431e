#!/usr/bin/env bash
# fuzz.sh runs every fuzz target in the given packages for FUZZTIME each, one at a time, because
# `go test -fuzz` takes exactly one target in one package per run. It goes on after a failing target
# so one run reports them all, and exits non-zero if any failed. A failing input is saved by go test
# under the package's testdata/fuzz/, where the plain unit tests replay it from then on.
#
# Usage: FUZZTIME=10s hack/fuzz.sh PACKAGE...   (make fuzz passes the packages)
set -euo pipefail
# shellcheck source=hack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_go
cd "$(repo_root)"

GO="${GO:-go}"
FUZZTIME="${FUZZTIME:-10s}"

if [ "$#" -eq 0 ]; then
	echo "fuzz: no fuzz targets yet, nothing to run"
	exit 0
fi

# `go test -list` prints a package's matching names, then its "ok <import path>" line; pair them up.
# The listing is captured first so that a package that does not compile stops the run here.
listing="$("$GO" test -run '^$' -list '^Fuzz' "$@")"
targets=()
pending=()
while read -r first second _; do
	case "$first" in
	Fuzz*) pending+=("$first") ;;
	ok)
		for name in "${pending[@]}"; do targets+=("$second $name"); done
		pending=()
		;;
	esac
done <<<"$listing"

if [ "${#targets[@]}" -eq 0 ]; then
	echo "fuzz: no fuzz targets in $*"
	exit 0
fi

echo "fuzz: ${#targets[@]} targets, ${FUZZTIME} each"
failed=()
for target in "${targets[@]}"; do
	pkg="${target% *}"
	name="${target#* }"
	echo "=== fuzz $name ($pkg)"
	if ! "$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$pkg"; then
		failed+=("$name ($pkg)")
	fi
done

if [ "${#failed[@]}" -gt 0 ]; then
	echo "fuzz: ${#failed[@]} of ${#targets[@]} targets failed:"
	printf '  %s\n' "${failed[@]}"
	exit 1
fi
echo "fuzz: all ${#targets[@]} targets passed"
