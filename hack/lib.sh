# lib.sh holds what the hack/ scripts share. Source it; it defines functions and changes nothing else
# except PATH, so that a machine whose PATH lacks the Go toolchain (a fresh Debian with Go unpacked
# at /usr/local/go, or CI's bare environment) still finds `go`.

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	PATH="/usr/local/go/bin:$PATH"
	export PATH
fi

# repo_root prints the top of the work tree, found from this file's place rather than from git,
# because CI and users may run the scripts from anywhere, even from an exported copy without .git.
repo_root() {
	(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
}

# need_go stops with a message that says how to fix it when there is no Go toolchain at all.
need_go() {
	if ! command -v go >/dev/null 2>&1; then
		echo "error: no 'go' on PATH or at /usr/local/go/bin; install Go 1.26 there (https://go.dev/dl) and retry" >&2
		exit 1
	fi
}

# go_source_files prints every .go file that the go command would consider, NUL-separated: it skips
# the directories the go command ignores (names starting with '.' or '_', testdata, vendor).
# Extra find(1) predicates, such as `-path ./e2e -prune -o`, may be passed before the defaults.
go_source_files() {
	find . -mindepth 1 "$@" \
		\( -name '.*' -o -name '_*' -o -name testdata -o -name vendor \) -prune \
		-o -type f -name '*.go' -print0
}
