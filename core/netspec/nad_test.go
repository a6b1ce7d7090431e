package netspec

import (
	"net/netip"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

func TestNADNetwork(t *testing.T) {
	for _, c := range []struct {
		config, tenant, network string
		ok                      bool
		errField                string
	}{
		{`{"cniVersion":"1.1.0","type":"knitter","network":"acme/net-a"}`, "acme", "net-a", true, ""},
		{`{"cniVersion":"1.1.0","type":"knitter","network":"net-a"}`, "pods-tenant", "net-a", true, ""},
		{`{"cniVersion":"1.1.0","name":"l","plugins":[{"type":"knitter","network":"public/ext"},{"type":"tuning"}]}`, "public", "ext", true, ""},
		{`{"cniVersion":"1.1.0","type":"macvlan","master":"eth0"}`, "", "", false, ""},
		{``, "", "", false, ""},
		{`{"type":"knitter"}`, "", "", false, "spec.config.network"},
		{`{"type":"knitter","network":"a/b/c"}`, "", "", false, "spec.config.network"},
		{`{"type":"knitter","network":"/b"}`, "", "", false, "spec.config.network"},
		{`{"type":`, "", "", false, "spec.config"},
	} {
		tenant, network, ok, err := NADNetwork(c.config, "pods-tenant")
		if c.errField != "" {
			checkInvalid(t, err, c.errField, "")
			continue
		}
		if err != nil || tenant != c.tenant || network != c.network || ok != c.ok {
			t.Errorf("NADNetwork(%s) = %q %q %v %v, want %q %q %v", c.config, tenant, network, ok, err, c.tenant, c.network, c.ok)
		}
	}
}

func TestCheckNPWG(t *testing.T) {
	n := &model.Network{Name: "vl", IPv4: &model.Subnet{CIDR: netip.MustParsePrefix("10.1.1.0/24"), Gateway: netip.MustParseAddr("10.1.1.1")}}
	ok := model.AttachRequest{Interface: "net1", IPs: []netip.Addr{netip.MustParseAddr("10.1.1.5")},
		IPPrefixes: []netip.Prefix{netip.MustParsePrefix("10.1.1.5/24")}, Gateways: []netip.Addr{netip.MustParseAddr("10.1.1.1")}}
	if err := CheckNPWG(ok, n); err != nil {
		t.Fatalf("the subnet's own prefix and gateway: %v", err)
	}
	bad := ok
	bad.IPPrefixes = []netip.Prefix{netip.MustParsePrefix("10.1.1.5/16")}
	checkInvalid(t, CheckNPWG(bad, n), "ips[0]", "write 10.1.1.5/24 or the address alone")
	bad = ok
	bad.Gateways = []netip.Addr{netip.MustParseAddr("192.168.0.1")}
	checkInvalid(t, CheckNPWG(bad, n), "default-route[0]", "outside interface net1's subnet")
	bad.Gateways = []netip.Addr{netip.MustParseAddr("10.1.1.254")}
	checkInvalid(t, CheckNPWG(bad, n), "default-route[0]", "give 10.1.1.1 or leave default-route empty")
}
