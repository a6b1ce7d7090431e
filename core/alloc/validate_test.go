package alloc

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

// TestPodRequestValidation: inputs that become keys and ids, or that the agent passes on, are refused
// with an error naming the field.
func TestPodRequestValidation(t *testing.T) {
	w := newWorld(t)
	w.do(CreateTenantCmd{Tenant: model.Tenant{Name: "ta"}})
	w.do(CreateNetworkCmd{Network: v4net("ta", "priv", "10.1.0.0/24")})
	eth0 := model.AttachRequest{Network: "priv", Interface: "eth0"}
	for _, tc := range []struct {
		name  string
		edit  func(*AllocatePodCmd)
		field string
	}{
		{"uid with slash", func(c *AllocatePodCmd) { c.Pod.UID = "a/b" }, "pod.uid"},
		{"uid climbing", func(c *AllocatePodCmd) { c.Pod.UID = "../../x" }, "pod.uid"},
		{"uid dot", func(c *AllocatePodCmd) { c.Pod.UID = ".." }, "pod.uid"},
		{"uid space", func(c *AllocatePodCmd) { c.Pod.UID = "a b" }, "pod.uid"},
		{"cni_args not json", func(c *AllocatePodCmd) { c.Requests[0].CNIArgs = "{not json" }, "requests[0].cni_args"},
		{"cni_args not an object", func(c *AllocatePodCmd) { c.Requests[0].CNIArgs = `["a"]` }, "requests[0].cni_args"},
		{"owner with bar", func(c *AllocatePodCmd) { c.Owner = "sts|x" }, "owner"},
		{"owner with newline", func(c *AllocatePodCmd) { c.Owner = "sts/\nx" }, "owner"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := podReq("ta", "7d1c2f3e-0b1a-4c5d-9e8f-a0b1c2d3e4f5", "", eth0)
			tc.edit(&c)
			_, err := w.try(c)
			wantErr(t, err, model.CodeInvalid, tc.field)
		})
	}
	ok := podReq("ta", "7d1c2f3e-0b1a-4c5d-9e8f-a0b1c2d3e4f5", "statefulset/ta/web/0", eth0)
	ok.Requests[0].CNIArgs = ` {"k": [1, 2]}`
	w.pod(ok)
}

// TestNodeNames: node names are DNS-1123 subdomains; anything else is refused before it becomes a key.
func TestNodeNames(t *testing.T) {
	w := newWorld(t)
	for _, name := range []string{"a/b", "UPPER", "../../tokens/x", "a..b", "-a", "a-", ".a", "a_b"} {
		_, err := w.try(RegisterNodeCmd{Node: model.Node{Name: name}})
		wantErr(t, err, model.CodeInvalid, "name")
	}
	for _, name := range []string{"node-1", "n1.example.com", "10.0.0.1"} {
		w.do(RegisterNodeCmd{Node: model.Node{Name: name}})
	}
}

// TestIPGroupConflictNamesItsAddress: the error of a taken address names its own position in ips, on
// create and on update.
func TestIPGroupConflictNamesItsAddress(t *testing.T) {
	w := newWorld(t)
	w.do(CreateTenantCmd{Tenant: model.Tenant{Name: "ta"}})
	w.do(CreateNetworkCmd{Network: v4net("ta", "priv", "10.1.0.0/24")})
	taken := w.pod(podReq("ta", "a1", "", model.AttachRequest{Network: "priv", Interface: "eth0"})).Ports[0].IPs[0]
	ip := netip.MustParseAddr
	_, err := w.try(CreateIPGroupCmd{IPGroup: model.IPGroup{Tenant: "ta", Name: "g", Network: "priv",
		IPs: []netip.Addr{ip("10.1.0.10"), ip("10.1.0.11"), taken}}})
	wantErr(t, err, model.CodeConflict, "ips[2]")
	w.do(CreateIPGroupCmd{IPGroup: model.IPGroup{Tenant: "ta", Name: "g", Network: "priv", IPs: []netip.Addr{ip("10.1.0.10")}}})
	_, err = w.try(UpdateIPGroupCmd{IPGroup: model.IPGroup{Tenant: "ta", Name: "g", Network: "priv",
		IPs: []netip.Addr{ip("10.1.0.10"), ip("10.1.0.11"), taken}}})
	wantErr(t, err, model.CodeConflict, "ips[2]")
}

// TestSubnetWithNoAddressRefused: ranges and exclusions that leave nothing to hand out are refused on
// the field that does it.
func TestSubnetWithNoAddressRefused(t *testing.T) {
	w := newWorld(t)
	w.do(CreateTenantCmd{Tenant: model.Tenant{Name: "ta"}})
	r := func(a, b string) model.Range {
		return model.Range{Start: netip.MustParseAddr(a), End: netip.MustParseAddr(b)}
	}
	all := v4net("ta", "n", "10.1.0.0/24")
	all.IPv4.Exclude = []model.Range{r("10.1.0.0", "10.1.0.255")}
	_, err := w.try(CreateNetworkCmd{Network: all})
	wantErr(t, err, model.CodeInvalid, "ipv4.exclude")
	hosts := v4net("ta", "n", "10.1.0.0/24")
	hosts.IPv4.Exclude = []model.Range{r("10.1.0.1", "10.1.0.100"), r("10.1.0.101", "10.1.0.254")}
	_, err = w.try(CreateNetworkCmd{Network: hosts})
	wantErr(t, err, model.CodeInvalid, "ipv4.exclude")
	gw := v4net("ta", "n", "10.1.0.0/24")
	gw.IPv4.Gateway = netip.MustParseAddr("10.1.0.1")
	gw.IPv4.Ranges = []model.Range{r("10.1.0.1", "10.1.0.1")}
	_, err = w.try(CreateNetworkCmd{Network: gw})
	wantErr(t, err, model.CodeInvalid, "ipv4.ranges")
	six := model.Network{Tenant: "ta", Name: "n", Type: model.Overlay, IPv6: &model.Subnet{CIDR: prefix("fd00::/126"),
		Exclude: []model.Range{r("fd00::1", "fd00::3")}}}
	_, err = w.try(CreateNetworkCmd{Network: six})
	wantErr(t, err, model.CodeInvalid, "ipv6.exclude")
	one := v4net("ta", "n", "10.1.0.0/24")
	one.IPv4.Exclude = []model.Range{r("10.1.0.1", "10.1.0.253")}
	w.do(CreateNetworkCmd{Network: one})
}

// TestNodesInNameOrder: Nodes and EachNodeName give the registered nodes in name order after any mix
// of registrations, re-registrations, releases and a restore (the peer gate relies on it to answer
// with a sorted list without sorting).
func TestNodesInNameOrder(t *testing.T) {
	w := newWorld(t)
	rng := rand.New(rand.NewPCG(7, 7))
	want := map[string]bool{}
	check := func(when string) {
		t.Helper()
		names := slices.Sorted(maps.Keys(want))
		var got []string
		for _, n := range w.s.Nodes() {
			got = append(got, n.Name)
		}
		if !slices.Equal(got, names) {
			t.Fatalf("%s: Nodes gave %v, want %v", when, got, names)
		}
		got = got[:0]
		w.s.EachNodeName(func(name string) { got = append(got, name) })
		if !slices.Equal(got, names) {
			t.Fatalf("%s: EachNodeName gave %v, want %v", when, got, names)
		}
	}
	for i := range 400 {
		name := fmt.Sprintf("node-%d", rng.IntN(60))
		if want[name] && rng.IntN(3) == 0 {
			w.do(ReleaseNodeCmd{Name: name})
			delete(want, name)
		} else {
			vtep := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
			w.do(RegisterNodeCmd{Node: model.Node{Name: name, VTEP: vtep}})
			want[name] = true
		}
		check(fmt.Sprintf("step %d", i))
	}
	w.restore()
	check("after restore")
}
