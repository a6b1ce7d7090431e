# Makefile builds, checks and tests Knitter. `make help` lists the targets and the variables that
# tune them. Recipes run in bash with -euo pipefail so that a failing step in a pipe fails the target.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := all
MAKEFLAGS += --no-print-directory

# A fresh Debian with Go unpacked at /usr/local/go may not have it on PATH. Appending keeps any Go
# that the caller put first.
export PATH := $(PATH):/usr/local/go/bin

GO        ?= go
GOFMT     ?= gofmt
OUTPUT    := _output
TOOLS_BIN := $(CURDIR)/.cache/bin
STATICCHECK := $(TOOLS_BIN)/staticcheck

# PKG narrows test-ut, bench and fuzz (e.g. PKG=./core/...). Empty means every package except the
# e2e suite for test-ut, and every package with benchmarks or fuzz targets for bench and fuzz.
PKG        ?=
TESTFLAGS  ?=
BENCH      ?= .
BENCHTIME  ?= 1s
BENCHCOUNT ?= 1
FUZZTIME   ?= 10s
# SEEDS and JOBS size make sim-swarm; SIMFLAGS adds knitter-sim run flags to every seed (e.g.
# --node-drain --statefulsets --network-churn --net-faults, or --monitor).
SEEDS      ?= 1..500
JOBS       ?= 2
SIMFLAGS   ?=
E2E_PKG    ?= ./e2e/...
# E2E_DRIVERS are the drivers make test-e2e runs the suite on, in order; the sim run is the suite
# alone (./e2e/), the local run E2E_PKG.
E2E_DRIVERS ?= sim local
E2E_FLAGS  ?=
E2E_TIMEOUT ?= 60m
# -s -w drops the symbol table and DWARF: knitter-plugin is exec'd once per CNI call, so its size and
# start-up time are on the pod's critical path.
LDFLAGS    ?= -s -w

# Packages knitter-plugin must never import: they would multiply its size and start-up time, which
# every CNI call pays. The agent does the real work.
PLUGIN_FORBIDDEN_IMPORTS := ^(k8s\.io/client-go|go\.etcd\.io)(/|$$)

.PHONY: all build verify fmt-check vet lint plugin-deps layering test-ut test-e2e test-monitor-integration test-e2e-kube kube-up kube-down bench bench-report fuzz sim-swarm tools clean help

all: build ## Same as build.

build: ## Build every main package cmd/<name> into _output/<name> (static, trimmed).
	@if [ ! -d cmd ]; then echo "build: no cmd/ directory yet, nothing to build"; exit 0; fi; \
	mains=$$($(GO) list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' ./cmd/... | \
		{ grep -E "^$$($(GO) list -m)/cmd/[^/]+$$" || true; }); \
	if [ -z "$$mains" ]; then echo "build: no main packages under cmd/ yet, nothing to build"; exit 0; fi; \
	mkdir -p $(OUTPUT); \
	echo "CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(OUTPUT)/ ./cmd/<name>"; \
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(OUTPUT)/ $$mains; \
	for m in $$mains; do ls -l $(OUTPUT)/$${m##*/} | awk '{printf "  %-40s %6.1f MiB\n", $$NF, $$5 / 1048576}'; done

verify: fmt-check vet lint plugin-deps layering test-ut ## Check format, vet, staticcheck, plugin imports, layering, then run the unit tests.

fmt-check: ## Fail listing every Go file that gofmt would change.
	@. hack/lib.sh; \
	bad=$$(go_source_files | xargs -0 -r $(GOFMT) -l); \
	if [ -n "$$bad" ]; then echo "gofmt: these files need 'gofmt -w':"; echo "$$bad" | sed 's/^/  /'; exit 1; fi; \
	echo "gofmt: ok"

vet: ## Run go vet on every package.
	$(GO) vet ./...

lint: $(STATICCHECK) ## Run staticcheck on every package.
	$(STATICCHECK) ./...

$(STATICCHECK): hack/install-tools.sh
	@hack/install-tools.sh --go-only

plugin-deps: ## Fail if knitter-plugin imports client-go or etcd.
	@if [ ! -d cmd/knitter-plugin ]; then echo "plugin-deps: no cmd/knitter-plugin yet, skipped"; exit 0; fi; \
	bad=$$($(GO) list -deps ./cmd/knitter-plugin | { grep -E '$(PLUGIN_FORBIDDEN_IMPORTS)' || true; }); \
	if [ -n "$$bad" ]; then \
		echo "plugin-deps: knitter-plugin must stay small; move this work to the agent. Forbidden imports:"; \
		echo "$$bad" | sed 's/^/  /'; exit 1; \
	fi; \
	echo "plugin-deps: ok"

layering: ## Fail listing every import that breaks the layers (core pure; shells never import adapters; only cmd/ wires them).
	$(GO) test -count=1 ./internal/layering/

test-ut: ## Run unit tests with -race, all packages but e2e (PKG=./core/... narrows, TESTFLAGS adds flags).
	@pkgs="$(PKG)"; [ -n "$$pkgs" ] || pkgs=$$(hack/go-packages.sh); \
	if [ -z "$$pkgs" ]; then echo "test-ut: no Go packages yet, nothing to test"; exit 0; fi; \
	if [ "$$(id -u)" -ne 0 ]; then echo "test-ut: not root, tests that need network namespaces will skip"; fi; \
	echo "$(strip $(GO) test -race -count=1 $(TESTFLAGS)) <$$(wc -w <<<"$$pkgs") packages>"; \
	$(GO) test -race -count=1 $(TESTFLAGS) $$pkgs

test-e2e: ## Run the ginkgo e2e suite on the sim driver (seconds, no root), then on local (E2E_DRIVERS, E2E_FLAGS, E2E_PKG, E2E_TIMEOUT).
	@if [ -z "$$(find e2e -name '*_test.go' -print -quit 2>/dev/null)" ]; then \
		echo "test-e2e: no e2e suite yet (see issue 4)"; exit 0; \
	fi; \
	times=""; \
	for d in $(E2E_DRIVERS); do \
		pkgs="$(E2E_PKG)"; [ "$$d" = local ] || pkgs=./e2e/; \
		echo "KNITTER_E2E_DRIVER=$$d $(GO) test $$pkgs -v -count=1 -timeout $(E2E_TIMEOUT) $(E2E_FLAGS)"; \
		t0=$$(date +%s); \
		report=$(CURDIR)/$(OUTPUT)/e2e-$$d.json; rm -f $$report; rc=0; \
		KNITTER_E2E_REPORT=$$report KNITTER_E2E_DRIVER=$$d $(GO) test $$pkgs -v -count=1 -timeout $(E2E_TIMEOUT) $(E2E_FLAGS) || rc=$$?; \
		if [ $$rc -ne 0 ]; then [ ! -f $$report ] || $(GO) run ./hack/e2efailures $$report; exit $$rc; fi; \
		times="$$times $$d $$(( $$(date +%s) - t0 )) s"; \
	done; \
	echo "test-e2e:$$times"

test-monitor-integration: ## knitter-monitor against a real kube-apiserver + etcd (KNITTER_KUBE_BIN, else hack/kube-build.sh).
	@bin="$${KNITTER_KUBE_BIN:-}"; [ -n "$$bin" ] || bin=$$(hack/kube-build.sh); \
	echo "KNITTER_KUBE_BIN=$$bin $(GO) test -tags integration -run TestIntegration -count=1 -v -timeout 30m ./monitor/"; \
	KNITTER_KUBE_BIN=$$bin $(GO) test -tags integration -run TestIntegration -count=1 -v -timeout 30m ./monitor/

kube-up: ## Bring up the local Kubernetes cluster with Knitter from deploy/ (hack/kube-up.sh; root).
	hack/kube-up.sh

kube-down: ## Remove the local Kubernetes cluster and everything it made (hack/kube-down.sh).
	hack/kube-down.sh

test-e2e-kube: ## kube-up, the e2e suite on the kube driver, kube-down (the cluster goes even if specs fail); prints each part's time.
	@dir=$${KNITTER_KUBE_DIR:-/var/lib/knitter-kube}; t0=$$(date +%s); \
	hack/kube-up.sh || { hack/kube-down.sh; exit 1; }; t1=$$(date +%s); \
	report=$(CURDIR)/$(OUTPUT)/e2e-kube.json; rm -f $$report; \
	rc=0; ( . $$dir/env && export KNITTER_KUBE_DIR=$$dir KNITTER_E2E_DRIVER=kube KNITTER_E2E_REPORT=$$report && \
		echo "$(GO) test ./e2e/ -v -count=1 -timeout $(E2E_TIMEOUT) $(E2E_FLAGS)  (KNITTER_E2E_DRIVER=kube)" && \
		$(GO) test ./e2e/ -v -count=1 -timeout $(E2E_TIMEOUT) $(E2E_FLAGS) ) || rc=$$?; t2=$$(date +%s); \
	hack/kube-down.sh; t3=$$(date +%s); \
	if [ $$rc -ne 0 ] && [ -f $$report ]; then $(GO) run ./hack/e2efailures $$report; fi; \
	echo "test-e2e-kube: kube-up $$((t1 - t0)) s, specs $$((t2 - t1)) s (exit $$rc), kube-down $$((t3 - t2)) s, in all $$((t3 - t0)) s"; \
	exit $$rc

sim-swarm: ## Run a large swarm of the deterministic simulator (SEEDS=1..500, JOBS=2, SIMFLAGS); prints failures' reproducing commands.
	$(GO) run ./cmd/knitter-sim swarm --seeds $(SEEDS) --jobs $(JOBS) $(SIMFLAGS)

bench: ## Run benchmarks into _output/bench.txt (BENCH regexp, BENCHTIME, BENCHCOUNT, PKG).
	@pkgs="$(PKG)"; [ -n "$$pkgs" ] || pkgs=$$(hack/go-packages.sh --having Benchmark); \
	if [ -z "$$pkgs" ]; then echo "bench: no benchmarks yet, nothing to run"; exit 0; fi; \
	mkdir -p $(OUTPUT); \
	echo "$(GO) test -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -count $(BENCHCOUNT) -benchmem" $$pkgs; \
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -count $(BENCHCOUNT) -benchmem $(TESTFLAGS) $$pkgs \
		| tee $(OUTPUT)/bench.txt; \
	echo "bench: results in $(OUTPUT)/bench.txt"

REPORTCOUNT ?= 3
SIMSCALE    ?=
bench-report: ## Run the node (as root, under flock /work/e2e.lock if present), agent, manager, core and simulator-scale benchmarks REPORTCOUNT times; write docs/benchmarks.md's generated tables and docs/plots/*.png.
	@mkdir -p $(OUTPUT)/bench; out=$(OUTPUT)/bench/results.txt; : > $$out; \
	export KNITTER_BENCH_SAMPLES=$(abspath $(OUTPUT))/bench/samples.jsonl; rm -f $$KNITTER_BENCH_SAMPLES; \
	hack/refplugins.sh; \
	lock=""; [ -e /work/e2e.lock ] && lock="flock /work/e2e.lock"; \
	group() { name=$$1; shift; echo "# load $$name before: $$(cut -d' ' -f1-3 /proc/loadavg)" >> $$out; \
		echo "bench-report: $$name: $$*"; "$$@" | tee -a $$out | grep '^Benchmark' || exit 1; \
		echo "# load $$name after: $$(cut -d' ' -f1-3 /proc/loadavg)" >> $$out; }; \
	group node $$lock $(GO) test ./bench/node -run '^$$' -bench 'KnitterADD$$|KnitterADDPodsUp|PluginStart' -benchtime 30x -count $(REPORTCOUNT) && \
	group node-concurrent $$lock $(GO) test ./bench/node -run '^$$' -bench 'ConcurrentPods' -benchtime 20x -count $(REPORTCOUNT) && \
	group node-burst $$lock $(GO) test ./bench/node -run '^$$' -bench 'AgentRSS' -benchtime 1x -count $(REPORTCOUNT) && \
	group agent $(GO) test ./agent -run '^$$' -bench 'AddDel|Restart200' -count $(REPORTCOUNT) && \
	group manager $(GO) test ./bench -run '^$$' -bench 'ManagerAllocate' -benchtime 2000x -count $(REPORTCOUNT) && \
	group manager-cold-start $(GO) test ./bench -run '^$$' -bench 'ManagerColdStart' -benchtime 1x -count $(REPORTCOUNT) && \
	group core $(GO) test ./core/... -run '^$$' -bench . -count $(REPORTCOUNT) && \
	group sim env KNITTER_SIM_SCALE=$(SIMSCALE) $(GO) test ./sim -run '^$$' -bench 'Scale' -benchtime 1x -count $(REPORTCOUNT) -timeout 60m && \
	cd hack/benchreport && $(GO) run . -in ../../$$out -samples $$KNITTER_BENCH_SAMPLES -doc ../../docs/benchmarks.md -plots ../../docs/plots

fuzz: ## Run every fuzz target for FUZZTIME each, one after another (PKG narrows).
	@pkgs="$(PKG)"; [ -n "$$pkgs" ] || pkgs=$$(hack/go-packages.sh --having Fuzz); \
	GO="$(GO)" FUZZTIME="$(FUZZTIME)" hack/fuzz.sh $$pkgs

tools: ## Install the Go tools and Debian packages the checks and tests need.
	hack/install-tools.sh

clean: ## Remove build output and installed tools.
	rm -rf $(OUTPUT) .cache/bin

help: ## List targets and variables.
	@echo "Targets:"
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'
	@echo "Variables (make TARGET VAR=value):"
	@echo "  PKG          packages for test-ut, bench, fuzz (default: all but e2e / those with benchmarks / fuzz targets)"
	@echo "  TESTFLAGS    extra go test flags for test-ut and bench, e.g. TESTFLAGS='-run TestX -v'"
	@echo "  SEEDS, JOBS  sim-swarm's seed range (default $(SEEDS)) and runs at a time (default $(JOBS))"
	@echo "  SIMFLAGS     knitter-sim run flags for every seed of sim-swarm (e.g. --node-drain --net-faults)"
	@echo "  BENCH        benchmark regexp (default $(BENCH)); BENCHTIME (default $(BENCHTIME)); BENCHCOUNT (default $(BENCHCOUNT))"
	@echo "  FUZZTIME     time per fuzz target (default $(FUZZTIME))"
	@echo "  REPORTCOUNT  runs of each benchmark in bench-report (default $(REPORTCOUNT)); SIMSCALE=full adds the 1,000- and 5,000-node scale runs"
	@echo "  E2E_FLAGS    flags for the e2e test binaries, e.g. E2E_FLAGS='-ginkgo.focus=overlay -ginkgo.v'"
	@echo "  E2E_PKG      e2e packages (default $(E2E_PKG)); E2E_TIMEOUT (default $(E2E_TIMEOUT))"
	@echo "  E2E_DRIVERS  drivers test-e2e runs the suite on (default: $(E2E_DRIVERS))"
	@echo "  LDFLAGS      linker flags for build (default '$(LDFLAGS)')"
