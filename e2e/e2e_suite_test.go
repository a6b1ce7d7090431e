package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/reporters"
	. "github.com/onsi/gomega"

	"github.com/knitter-cni/knitter/e2e/cluster"
	"github.com/knitter-cni/knitter/e2e/cluster/kube"
	"github.com/knitter-cni/knitter/e2e/cluster/local"
	simdriver "github.com/knitter-cni/knitter/e2e/cluster/sim"
)

// driverEnv selects the cluster driver: local (the default), sim or kube.
const driverEnv = "KNITTER_E2E_DRIVER"

// upTimeout bounds bringing a cluster up, the first `make build` of a clean checkout included.
const upTimeout = 15 * time.Minute

// The suite's cluster, up for every spec; specs create and delete their own pods on it.
var (
	c     cluster.Cluster
	node1 string
	node2 string
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Knitter e2e")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	var err error
	c, err = upCluster(ctx, 2)
	Expect(err).NotTo(HaveOccurred())
	nodes := c.Nodes()
	Expect(nodes).To(HaveLen(2))
	node1, node2 = nodes[0].Name, nodes[1].Name
}, NodeTimeout(upTimeout))

var _ = AfterSuite(func(ctx SpecContext) {
	if c == nil {
		return
	}
	Expect(c.Down(ctx)).To(Succeed())
	expectNothingLeft(c)
}, NodeTimeout(5*time.Minute))

// reportEnv names a file for the run's ginkgo JSON report; `make test-e2e` sets it and, when the
// suite fails, prints each failure's reason from it (hack/e2efailures) below ginkgo's summary.
const reportEnv = "KNITTER_E2E_REPORT"

var _ = ReportAfterSuite("the JSON report for hack/e2efailures", func(r Report) {
	if path := os.Getenv(reportEnv); path != "" {
		Expect(os.MkdirAll(filepath.Dir(path), 0o755)).To(Succeed())
		Expect(reporters.GenerateJSONReport(r, path)).To(Succeed())
	}
})

// upCluster brings up a cluster of the selected driver with the suite's networks.
func upCluster(ctx context.Context, nodes int) (cluster.Cluster, error) {
	driver := os.Getenv(driverEnv)
	switch driver {
	case "", "local":
		if os.Geteuid() != 0 {
			Skip("the local driver needs root (network namespaces); run the suite as root")
		}
		bootstrap, err := filepath.Abs(filepath.Join("testdata", "bootstrap.yaml"))
		if err != nil {
			return nil, err
		}
		lc, err := local.Up(ctx, local.Config{Nodes: nodes, Bootstrap: bootstrap, Progress: GinkgoWriter})
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(GinkgoWriter, "local cluster %s in %s; if this run dies, remove it with: go run ./hack/localcluster down --dir %s\n",
			lc.RunID(), lc.Dir(), lc.Dir())
		return lc, nil
	case "kube":
		bootstrap, err := filepath.Abs(filepath.Join("testdata", "bootstrap.yaml"))
		if err != nil {
			return nil, err
		}
		cfg := kube.Config{Bootstrap: bootstrap, Progress: GinkgoWriter}
		// hack/kube-up.sh's cluster: the driver may reach into its nodes.
		if dir := os.Getenv("KNITTER_KUBE_DIR"); dir != "" && os.Geteuid() == 0 {
			cfg.NodeDir = filepath.Join(dir, "nodes")
			if cfg.KubeUp, err = filepath.Abs(filepath.Join("..", "hack", "kube-up.sh")); err != nil {
				return nil, err
			}
		}
		return kube.Up(ctx, cfg)
	case "sim":
		bootstrap, err := filepath.Abs(filepath.Join("testdata", "bootstrap.yaml"))
		if err != nil {
			return nil, err
		}
		// Ginkgo's seed (--seed) orders the specs; it seeds the simulated world too, so that one
		// seed replays a run.
		return simdriver.Up(ctx, simdriver.Config{Seed: uint64(GinkgoRandomSeed()), Nodes: nodes, Bootstrap: bootstrap, Progress: GinkgoWriter})
	}
	return nil, fmt.Errorf("%s=%q: unknown driver; use local, sim or kube", driverEnv, driver)
}

// leftoverLister is implemented by drivers that can say what of a cluster is still on the machine.
type leftoverLister interface {
	Leftovers() ([]string, error)
}

// expectNothingLeft fails if a cluster that is down left anything behind.
func expectNothingLeft(cl cluster.Cluster) {
	GinkgoHelper()
	ll, ok := cl.(leftoverLister)
	if !ok {
		return
	}
	left, err := ll.Leftovers()
	Expect(err).NotTo(HaveOccurred())
	Expect(left).To(BeEmpty(), "left behind after Down: %s", strings.Join(left, "; "))
}
