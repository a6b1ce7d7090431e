// Package e2e is Knitter's end-to-end suite (ginkgo v2 + gomega). Its specs drive a whole installation
// through the cluster.Cluster interface, so the same specs run on every driver:
//
//	go test ./e2e/... -v                       # the local driver (root): real binaries, node namespaces
//	KNITTER_E2E_DRIVER=local go test ./e2e/... # the same, explicitly
//	KNITTER_E2E_DRIVER=sim go test ./e2e/      # in the simulator, no root (docs/simulator.md)
//	KNITTER_E2E_CRI=1 go test ./e2e/... -v     # also the containerd CRI spec (label "cri")
//	go test ./e2e/ -v -ginkgo.label-filter='!cri' -ginkgo.focus=overlay
//
// The package has no code outside its tests; the drivers live in e2e/cluster.
package e2e
