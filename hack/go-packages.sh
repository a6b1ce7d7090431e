#!/usr/bin/env bash
# go-packages.sh prints, one per line, the Go packages that the unit-level make targets (test-ut,
# bench, fuzz) work on: every package of the module except the e2e suite under ./e2e, which needs a
# cluster and runs only through `make test-e2e`.
#
# Usage: hack/go-packages.sh [--having Benchmark|Fuzz|Test]
#
# With --having PREFIX it prints only the directories whose _test.go files declare a function named
# PREFIX..., so that `make bench` and `make fuzz` neither build nor run test binaries that have
# nothing for them. This is a cheap text pre-filter; `go test` itself still decides what runs.
set -euo pipefail
# shellcheck source=hack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_go
cd "$(repo_root)"

having=""
case "${1:-}" in
"") ;;
--having)
	having="${2:?--having needs a function prefix such as Benchmark or Fuzz}"
	;;
*)
	echo "usage: $0 [--having Benchmark|Fuzz|Test]" >&2
	exit 2
	;;
esac

if [ -z "$having" ]; then
	module="$(go list -m)"
	# -e: a package that does not compile is still listed, so that go test reports why.
	go list -e ./... | { grep -v -E "^${module}/e2e(/|\$)" || true; }
	exit 0
fi

go_source_files -path ./e2e -prune -o |
	{ grep -z '_test\.go$' || true; } |
	{ xargs -0 -r grep -l -E "^func ${having}[^a-z]" || true; } |
	xargs -r -n1 dirname | sort -u
