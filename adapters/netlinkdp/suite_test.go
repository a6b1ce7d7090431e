package netlinkdp_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/knitter-cni/knitter/agent/dataplanetest"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestNetlinkdp(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "netlinkdp: real namespaces")
}

var ctx = context.Background()

var _ = BeforeSuite(func() {
	if !isRoot() {
		Skip("needs root to make network namespaces")
	}
})

// freshNode makes a node namespace with the contract's NICs and a dataplane for it, removed with
// every namespace the spec made when the spec ends.
func freshNode() (*testNode, *world) {
	w := newWorld()
	n, err := newTestNode(w, filepath.Join(GinkgoT().TempDir(), "sys"))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		n.dp.Close()
		Expect(w.close(n.path)).To(Succeed())
	})
	return n, w
}

func podNetns(w *world) string {
	p, err := w.netns()
	Expect(err).NotTo(HaveOccurred())
	return p
}

func links(path string) []string {
	names, err := linkNames(path)
	Expect(err).NotTo(HaveOccurred())
	return names
}

// Builders shared with the contract.
var (
	overlay = dataplanetest.Overlay
	macvlan = dataplanetest.MACVLAN
	vlanL   = dataplanetest.VLAN
	vfL     = dataplanetest.SRIOV
	route   = dataplanetest.Route
	podPlan = dataplanetest.Pod
)
