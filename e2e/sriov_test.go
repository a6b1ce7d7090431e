package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/e2e/cluster"
)

// The SR-IOV specs need a cluster whose nodes have an SR-IOV PF with free VFs, and agents started
// with a VF pool for it (deploy/overlays/baremetal-sriov). They run where KNITTER_E2E_SRIOV_PF names
// the PF's physical network (as every node's agent maps it); KNITTER_E2E_SRIOV_CIDR (default
// 10.60.0.0/24) and KNITTER_E2E_SRIOV_VLAN (default none) shape the network the spec creates.
const (
	sriovPFEnv   = "KNITTER_E2E_SRIOV_PF"
	sriovCIDREnv = "KNITTER_E2E_SRIOV_CIDR"
	sriovVLANEnv = "KNITTER_E2E_SRIOV_VLAN"
)

// sriovNetwork creates an SR-IOV network of tenant e2e on the configured PF, granting the tenant
// the PF's physical network for the spec, and removes both when the spec ends. It skips the spec
// where no PF is configured.
func sriovNetwork(ctx SpecContext) model.Network {
	GinkgoHelper()
	pf := os.Getenv(sriovPFEnv)
	if pf == "" {
		Skip(fmt.Sprintf("no SR-IOV PF is configured for this run: the SR-IOV specs need nodes with an SR-IOV NIC "+
			"and agents with a VF pool (deploy/overlays/baremetal-sriov); set %s to the PF's physical network "+
			"(%s, %s optional). This machine has no SR-IOV hardware.", sriovPFEnv, sriovCIDREnv, sriovVLANEnv))
	}
	cidr := os.Getenv(sriovCIDREnv)
	if cidr == "" {
		cidr = "10.60.0.0/24"
	}
	prefix, err := netip.ParsePrefix(cidr)
	Expect(err).NotTo(HaveOccurred(), "%s=%q: give a subnet such as 10.60.0.0/24", sriovCIDREnv, cidr)
	net := model.Network{Name: fmt.Sprintf("sriov-%d", podSeq.Add(1)), Tenant: "e2e", Type: model.SRIOV,
		PhysicalNetwork: pf, IPv4: &model.Subnet{CIDR: prefix.Masked()}}
	if v := os.Getenv(sriovVLANEnv); v != "" {
		_, err := fmt.Sscanf(v, "%d", &net.VLAN)
		Expect(err).NotTo(HaveOccurred(), "%s=%q: give a VLAN id 1-4094", sriovVLANEnv, v)
	}

	m := c.ManagerClient()
	t, err := m.GetTenant(ctx, "e2e")
	Expect(err).NotTo(HaveOccurred())
	if !slices.Contains(t.PhysicalNetworks, pf) {
		before := t.Tenant
		granted := before
		granted.PhysicalNetworks = append(slices.Clone(before.PhysicalNetworks), pf)
		_, err := m.UpdateTenant(ctx, granted)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			_, err := m.UpdateTenant(ctx, before)
			Expect(err).NotTo(HaveOccurred())
		})
	}
	_, err = m.CreateNetwork(ctx, net)
	Expect(err).NotTo(HaveOccurred(), "creating SR-IOV network %s on %s", net.Name, pf)
	DeferCleanup(func(ctx SpecContext) { Expect(m.DeleteNetwork(ctx, "e2e", net.Name)).To(Succeed()) })
	return net
}

var _ = Describe("sriov networks", Label("sriov"), func() {
	It("give each pod a VF with the manager's MAC and address, and pods on two nodes reach each other", func(ctx SpecContext) {
		net := sriovNetwork(ctx)
		a := createPod(ctx, cluster.PodSpec{Name: podName("vf-a"), Node: node1, Annotations: npwg(net.Name + "@net1")})
		b := createPod(ctx, cluster.PodSpec{Name: podName("vf-b"), Node: node2, Annotations: npwg(net.Name + "@net1")})
		for _, p := range []*cluster.Pod{a, b} {
			itf, ok := p.Interface("net1")
			Expect(ok).To(BeTrue(), "pod %s has no net1: %+v", p.Key(), p.Interfaces)
			var port *model.Port
			rec := allocation(ctx, p)
			for i := range rec.Ports {
				if rec.Ports[i].Interface == "net1" {
					port = &rec.Ports[i]
				}
			}
			Expect(port).NotTo(BeNil(), "the manager has no net1 port of %s", p.Key())
			Expect(port.Network).To(Equal("e2e/" + net.Name))
			Expect(strings.EqualFold(itf.MAC, port.MAC.String())).To(BeTrue(), "%s's net1 MAC %s, the manager's %s", p.Key(), itf.MAC, port.MAC)
			Expect(net.IPv4.CIDR.Contains(addrOn(p, "net1", 4))).To(BeTrue())
		}
		expectReach(ctx, a, addrOn(b, "net1", 4))
		expectReach(ctx, b, addrOn(a, "net1", 4))
	})
})
