package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/vishvananda/netlink"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
	"github.com/knitter-cni/knitter/e2e/cluster/local"
)

// criEnv turns the CRI spec on. It is off by default: it starts a private containerd (installing
// containerd and runc with apt if they are missing) and builds bridges in the root namespace.
const criEnv = "KNITTER_E2E_CRI"

// criVTEP is the CRI node's VTEP, on a veth pair the spec makes in the root namespace.
var criVTEP = netip.MustParseAddr("192.0.2.250")

var _ = Describe("a pod sandbox run by containerd's CRI", Label("cri"), Serial, func() {
	It("gets knitter's interfaces and addresses, and stopp/rmp remove them, leaving nothing", func(ctx SpecContext) {
		if os.Getenv(criEnv) != "1" {
			Skip(criEnv + "=1 runs this spec: it starts a private containerd (hack/containerd/up.sh, which apt-installs containerd and runc if missing) and builds bridges in the root network namespace")
		}
		lc, ok := c.(*local.Cluster)
		if !ok {
			Skip(fmt.Sprintf("the CRI spec needs the local driver, not %T", c))
		}
		r := newCRIRun(ctx, lc)
		r.prepareRoot(ctx)
		r.startAgent(ctx)
		r.startContainerd(ctx)

		name, uid := podName("cri"), fmt.Sprintf("cri-%s-%d", lc.RunID(), time.Now().UnixNano())
		_, err := local.WritePodManifest(r.agent.PodDir, "e2e", name, uid, r.agent.Name, npwg("green@net1"))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { _ = c.ManagerClient().ReleasePod(ctx, uid) })
		sandbox := r.writeSandbox(name, uid)
		podID := strings.TrimSpace(r.crictl(ctx, "runp", sandbox))
		DeferCleanup(func(ctx SpecContext) { _, _ = r.crictlErr(ctx, "rmp", "--force", podID) })

		netnsPath := strings.TrimSpace(r.crictl(ctx, "inspectp", "-o", "go-template", "--template",
			`{{range .info.runtimeSpec.linux.namespaces}}{{if eq .type "network"}}{{.path}}{{end}}{{end}}`, podID))
		Expect(netnsPath).To(HavePrefix(r.ctrdDir+"/"), "the sandbox's netns is containerd's")
		podIP := strings.TrimSpace(r.crictl(ctx, "inspectp", "-o", "go-template", "--template", "{{.status.network.ip}}", podID))

		alloc := allocationByUID(ctx, uid)
		Expect(alloc.Node).To(Equal(r.agent.Name))
		ifs, err := local.ReadInterfaces(netnsPath)
		Expect(err).NotTo(HaveOccurred())
		Expect(ifs).To(HaveLen(len(alloc.Ports)), "interfaces in the sandbox: %+v", ifs)
		for i, port := range alloc.Ports {
			itf := ifs[i]
			Expect(itf.Name).To(Equal(port.Interface))
			Expect(itf.MAC).To(Equal(port.MAC.String()))
			var got []netip.Addr
			for _, a := range itf.Addrs {
				got = append(got, a.Addr())
			}
			Expect(got).To(ConsistOf(port.IPs))
		}
		Expect(alloc.Ports[0].Interface).To(Equal("eth0"))
		Expect(podIP).To(Equal(alloc.Ports[0].IPs[0].String()), "CRI reports eth0's address as the pod IP")
		Expect(r.checkpoints()).To(ConsistOf(podID + "@eth0"))

		r.crictl(ctx, "stopp", podID)
		r.crictl(ctx, "rmp", podID)
		Expect(netnsPath).NotTo(BeAnExistingFile(), "the sandbox's netns after rmp")
		Expect(r.checkpoints()).To(BeEmpty(), "checkpoints after stopp")
		for _, port := range alloc.Ports {
			_, err := netlink.LinkByName(plan.HostIfName(podID, port.Interface))
			Expect(err).To(HaveOccurred(), "the root namespace still has the node end of %s", port.Interface)
		}

		r.teardown(ctx)
		Expect(c.ManagerClient().ReleasePod(ctx, uid)).To(Succeed(), "releasing the pod's ports, as the monitor does once it is gone")
		_, err = c.ManagerClient().GetPod(ctx, uid)
		Expect(errors.Is(err, model.ErrNotFound)).To(BeTrue(), "the manager still holds pod %s: %v", uid, err)
		Expect(r.leftovers()).To(BeEmpty())
	}, NodeTimeout(20*time.Minute))
})

// criRun is one run of the CRI spec: its directories, names and the things it made.
type criRun struct {
	lc      *local.Cluster
	repo    string
	work    string
	ctrdDir string
	binDir  string
	confDir string
	vtepDev string
	// bridges are the root namespace links the overlays' plumbing creates, removed at the end.
	bridges []string
	agent   *local.RootAgent
	// madeParent says the run made the parent of ctrdDir, so it removes it again.
	madeParent bool
}

func newCRIRun(ctx context.Context, lc *local.Cluster) *criRun {
	GinkgoHelper()
	repo, err := local.RepoRoot(".")
	Expect(err).NotTo(HaveOccurred())
	r := &criRun{lc: lc, repo: repo, work: GinkgoT().TempDir(),
		ctrdDir: "/var/lib/knitter-test/e2e-" + lc.RunID(), vtepDev: "kc" + lc.RunID() + "a"}
	r.binDir, r.confDir = filepath.Join(r.work, "cni-bin"), filepath.Join(r.work, "net.d")
	if _, err := os.Stat(filepath.Dir(r.ctrdDir)); errors.Is(err, os.ErrNotExist) {
		// up.sh makes the parent; it is removed at the end only if this run made it.
		r.madeParent = true
		DeferCleanup(func() { _ = os.Remove(filepath.Dir(r.ctrdDir)) })
	}
	for _, n := range []string{"blue", "green"} {
		nw, err := c.ManagerClient().GetNetwork(ctx, "e2e", n)
		Expect(err).NotTo(HaveOccurred())
		r.bridges = append(r.bridges, fmt.Sprintf("knbr-%d", nw.VNI), fmt.Sprintf("knvx-%d", nw.VNI))
	}
	return r
}

// prepareRoot checks that the root namespace has none of the links the spec will make, and makes
// the VTEP's veth pair.
func (r *criRun) prepareRoot(ctx context.Context) {
	GinkgoHelper()
	for _, name := range append([]string{r.vtepDev}, r.bridges...) {
		_, err := netlink.LinkByName(name)
		Expect(err).To(HaveOccurred(), "the root namespace has %s already; another run uses it, or a crashed one left it (ip link del %s)", name, name)
	}
	DeferCleanup(func() { r.removeRootLinks() })
	attrs := netlink.NewLinkAttrs()
	attrs.Name = r.vtepDev
	Expect(netlink.LinkAdd(&netlink.Veth{LinkAttrs: attrs, PeerName: "kc" + r.lc.RunID() + "b"})).To(Succeed())
	dev, err := netlink.LinkByName(r.vtepDev)
	Expect(err).NotTo(HaveOccurred())
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: criVTEP.AsSlice(), Mask: net.CIDRMask(32, 32)}}
	Expect(netlink.AddrAdd(dev, addr)).To(Succeed())
	Expect(netlink.LinkSetUp(dev)).To(Succeed())
}

// removeRootLinks deletes the spec's links in the root namespace; the veth's peer goes with it.
func (r *criRun) removeRootLinks() {
	for _, name := range append([]string{r.vtepDev}, r.bridges...) {
		if l, err := netlink.LinkByName(name); err == nil {
			_ = netlink.LinkDel(l)
		}
	}
}

// startAgent starts the CRI node's agent in the root namespace.
func (r *criRun) startAgent(ctx context.Context) {
	GinkgoHelper()
	name := "cri-" + r.lc.RunID()
	DeferCleanup(func(ctx SpecContext) {
		_ = r.lc.StopRootAgent(name)
		if err := c.ManagerClient().DeleteNode(ctx, name); err != nil && !errors.Is(err, model.ErrNotFound) {
			Fail(fmt.Sprintf("removing node %s from the manager: %v", name, err))
		}
	})
	var err error
	r.agent, err = r.lc.StartRootAgent(ctx, name, criVTEP, r.vtepDev)
	Expect(err).NotTo(HaveOccurred())
}

// startContainerd prepares the CNI directories and runs hack/containerd/up.sh; down.sh runs at the
// end whatever happens.
func (r *criRun) startContainerd(ctx context.Context) {
	GinkgoHelper()
	Expect(os.MkdirAll(r.binDir, 0o755)).To(Succeed())
	Expect(os.MkdirAll(r.confDir, 0o755)).To(Succeed())
	refBin := filepath.Join(r.repo, ".cache", "cni-bin")
	r.script(ctx, "hack/refplugins.sh", refBin)
	for _, p := range []string{"bridge", "macvlan", "host-local", "loopback"} {
		Expect(link(filepath.Join(refBin, p), filepath.Join(r.binDir, p))).To(Succeed())
	}
	Expect(link(filepath.Join(r.lc.BinDir(), "knitter-plugin"), filepath.Join(r.binDir, "knitter"))).To(Succeed())

	DeferCleanup(func(ctx SpecContext) {
		if _, err := os.Stat(r.ctrdDir); err == nil {
			r.script(ctx, "hack/containerd/down.sh")
		}
	}, NodeTimeout(5*time.Minute))
	r.script(ctx, "hack/containerd/up.sh")

	conf, err := json.MarshalIndent(map[string]any{
		"cniVersion": "1.0.0",
		"name":       "knitter",
		"plugins": []map[string]any{{
			"type": "knitter", "agentSocket": r.agent.Socket, "timeout": "60s",
			"logFile": filepath.Join(r.work, "plugin.log"),
		}},
	}, "", "  ")
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(filepath.Join(r.confDir, "10-knitter.conflist"), conf, 0o644)).To(Succeed())
	Eventually(ctx, func(ctx context.Context) string {
		out, _ := r.crictlErr(ctx, "info", "-o", "go-template", "--template",
			`{{range .status.conditions}}{{if eq .type "NetworkReady"}}{{.status}}{{end}}{{end}}`)
		return strings.TrimSpace(out)
	}).WithTimeout(time.Minute).Should(Equal("true"), "CRI did not load the knitter configuration")
}

// writeSandbox writes the pod sandbox configuration crictl runp takes.
func (r *criRun) writeSandbox(name, uid string) string {
	GinkgoHelper()
	b, err := json.MarshalIndent(map[string]any{
		"metadata":      map[string]any{"name": name, "namespace": "e2e", "uid": uid, "attempt": 0},
		"hostname":      name,
		"log_directory": filepath.Join(r.ctrdDir, "pod-logs", uid),
		"annotations":   npwg("green@net1"),
		"linux":         map[string]any{"cgroup_parent": "/knitter-test"},
	}, "", "  ")
	Expect(err).NotTo(HaveOccurred())
	file := filepath.Join(r.work, "sandbox.json")
	Expect(os.WriteFile(file, b, 0o644)).To(Succeed())
	return file
}

// env is the environment of the hack/containerd scripts and crictl for this run.
func (r *criRun) env() []string {
	return append(os.Environ(), "KNITTER_CONTAINERD_DIR="+r.ctrdDir, "KNITTER_CNI_BIN_DIR="+r.binDir,
		"KNITTER_CNI_CONF_DIR="+r.confDir, "PATH="+os.Getenv("PATH")+":/usr/local/go/bin:/usr/local/sbin:/usr/sbin:/sbin")
}

// script runs a repository script, its output into the spec's log.
func (r *criRun) script(ctx context.Context, script string, args ...string) {
	GinkgoHelper()
	cmd := exec.CommandContext(ctx, filepath.Join(r.repo, script), args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = r.env(), GinkgoWriter, GinkgoWriter
	Expect(cmd.Run()).To(Succeed(), "%s %s", script, strings.Join(args, " "))
}

// crictl runs crictl against this run's containerd and fails the spec if it fails.
func (r *criRun) crictl(ctx context.Context, args ...string) string {
	GinkgoHelper()
	out, err := r.crictlErr(ctx, args...)
	Expect(err).NotTo(HaveOccurred(), "crictl %s: %s", strings.Join(args, " "), out)
	return out
}

func (r *criRun) crictlErr(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	full := append([]string{"--config", filepath.Join(r.ctrdDir, "crictl.yaml")}, args...)
	cmd := exec.CommandContext(ctx, filepath.Join(r.repo, ".cache", "bin", "crictl"), full...)
	var stdout, stderr bytes.Buffer
	cmd.Env, cmd.Stdout, cmd.Stderr = r.env(), &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String() + stderr.String(), err
	}
	return stdout.String(), nil
}

// checkpoints lists the CRI agent's checkpoint files.
func (r *criRun) checkpoints() []string {
	GinkgoHelper()
	entries, err := os.ReadDir(r.agent.StateDir)
	Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			out = append(out, name)
		}
	}
	return out
}

// teardown removes containerd, the agent and the root namespace's links in order; the deferred
// cleanups do the same again when a step failed half-way.
func (r *criRun) teardown(ctx context.Context) {
	GinkgoHelper()
	r.script(ctx, "hack/containerd/down.sh")
	Expect(r.lc.StopRootAgent(r.agent.Name)).To(Succeed())
	Expect(c.ManagerClient().DeleteNode(ctx, r.agent.Name)).To(Succeed())
	r.removeRootLinks()
	if r.madeParent {
		Expect(os.Remove(filepath.Dir(r.ctrdDir))).To(Succeed(), "removing the empty %s", filepath.Dir(r.ctrdDir))
	}
}

// leftovers lists what of the run is still on the machine.
func (r *criRun) leftovers() []string {
	var out []string
	for _, name := range append([]string{r.vtepDev, "kc" + r.lc.RunID() + "b"}, r.bridges...) {
		if _, err := netlink.LinkByName(name); err == nil {
			out = append(out, "link "+name)
		}
	}
	if _, err := os.Stat(r.ctrdDir); err == nil {
		out = append(out, "directory "+r.ctrdDir)
	}
	if _, err := os.Stat(filepath.Dir(r.ctrdDir)); err == nil && r.madeParent {
		out = append(out, "directory "+filepath.Dir(r.ctrdDir))
	}
	for _, n := range r.lc.Status().Nodes {
		if n.Name == r.agent.Name && n.Agent.Running {
			out = append(out, fmt.Sprintf("knitter-agent of %s (pid %d)", n.Name, n.Agent.Pid))
		}
	}
	if r.lc.Status().Manager.Running {
		if _, err := c.ManagerClient().GetNode(context.Background(), r.agent.Name); err == nil {
			out = append(out, "node "+r.agent.Name+" in the manager")
		}
	}
	return out
}

// allocationByUID is the manager's record of the pod with uid.
func allocationByUID(ctx context.Context, uid string) model.Pod {
	GinkgoHelper()
	a, err := c.ManagerClient().GetPod(ctx, uid)
	Expect(err).NotTo(HaveOccurred(), "the manager has no allocation of pod %s", uid)
	return a
}

// link hard-links src to dst, copying where links cannot be made.
func link(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o755)
}
