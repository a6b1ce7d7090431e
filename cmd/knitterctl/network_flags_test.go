package main

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/knitter-cni/knitter/core/model"
)

// parseNetworkFlags runs the flags through cobra's parser, as the command line does, and builds
// the network.
func parseNetworkFlags(t *testing.T, args ...string) (model.Network, error) {
	t.Helper()
	var f networkFlags
	cmd := &cobra.Command{}
	f.add(cmd)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatalf("parsing %q: %v", args, err)
	}
	return f.network("demo", "net1")
}

func TestNetworkFlagsBuildTheRequestBody(t *testing.T) {
	p, a := netip.MustParsePrefix, netip.MustParseAddr
	tests := []struct {
		name string
		args []string
		want model.Network
	}{{
		name: "overlay",
		args: []string{"--type", "overlay", "--ipv4", "10.1.0.0/24", "--gateway", "10.1.0.1"},
		want: model.Network{Tenant: "demo", Name: "net1", Type: model.Overlay,
			IPv4: &model.Subnet{CIDR: p("10.1.0.0/24"), Gateway: a("10.1.0.1")}},
	}, {
		name: "every field, dual stack",
		args: []string{"--type", "overlay", "--vni", "5000", "--mtu", "1450", "--public",
			"--ipv4", "10.1.0.0/24", "--gateway", "10.1.0.1", "--ipv6", "fd00:1::/64", "--gateway6", "fd00:1::1",
			"--range", "10.1.0.10-10.1.0.19", "--range", "fd00:1::10-fd00:1::ff,10.1.0.100-10.1.0.199",
			"--exclude", "10.1.0.15", "--exclude", "fd00:1::20-fd00:1::2f",
			"--route", "192.168.0.0/16=10.1.0.254", "--route", "fd00:9::/64", "--route", "0.0.0.0/0"},
		want: model.Network{Tenant: "demo", Name: "net1", Type: model.Overlay, VNI: 5000, MTU: 1450, Public: true,
			IPv4: &model.Subnet{CIDR: p("10.1.0.0/24"), Gateway: a("10.1.0.1"),
				Ranges:  []model.Range{{Start: a("10.1.0.10"), End: a("10.1.0.19")}, {Start: a("10.1.0.100"), End: a("10.1.0.199")}},
				Exclude: []model.Range{{Start: a("10.1.0.15"), End: a("10.1.0.15")}},
				Routes:  []model.Route{{Dst: p("192.168.0.0/16"), Gateway: a("10.1.0.254")}, {Dst: p("0.0.0.0/0")}}},
			IPv6: &model.Subnet{CIDR: p("fd00:1::/64"), Gateway: a("fd00:1::1"),
				Ranges:  []model.Range{{Start: a("fd00:1::10"), End: a("fd00:1::ff")}},
				Exclude: []model.Range{{Start: a("fd00:1::20"), End: a("fd00:1::2f")}},
				Routes:  []model.Route{{Dst: p("fd00:9::/64")}}}},
	}, {
		name: "vlan",
		args: []string{"--type", "vlan", "--vlan", "100", "--physical-network", "eth1", "--ipv4", "10.2.0.0/24"},
		want: model.Network{Tenant: "demo", Name: "net1", Type: model.VLAN, VLAN: 100, PhysicalNetwork: "eth1",
			IPv4: &model.Subnet{CIDR: p("10.2.0.0/24")}},
	}, {
		name: "ipv6 only sriov",
		args: []string{"--type", "sriov", "--physical-network", "ens1f0", "--ipv6", "fd00:2::/64"},
		want: model.Network{Tenant: "demo", Name: "net1", Type: model.SRIOV, PhysicalNetwork: "ens1f0",
			IPv6: &model.Subnet{CIDR: p("fd00:2::/64")}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseNetworkFlags(t, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(tc.want)
				t.Fatalf("body\n got %s\nwant %s", g, w)
			}
		})
	}
}

func TestNetworkFlagsBodyJSON(t *testing.T) {
	n, err := parseNetworkFlags(t, "--type", "overlay", "--ipv4", "10.1.0.0/24", "--gateway", "10.1.0.1", "--range", "10.1.0.10-10.1.0.20")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(n)
	want := `{"name":"net1","tenant":"demo","type":"overlay","ipv4":{"cidr":"10.1.0.0/24","gateway":"10.1.0.1","ranges":[{"start":"10.1.0.10","end":"10.1.0.20"}]}}`
	if string(b) != want {
		t.Fatalf("body\n got %s\nwant %s", b, want)
	}
}

// TestNetworkFlagErrorsNameTheFlag checks that each mistake is reported against the flag that
// made it, before anything is sent.
func TestNetworkFlagErrorsNameTheFlag(t *testing.T) {
	tests := []struct {
		args      []string
		field     string
		inMessage string
	}{
		{[]string{"--ipv4", "10.1.0.0/24"}, "--type", "is missing"},
		{[]string{"--type", "overlay"}, "--ipv4", "--ipv4 or --ipv6"},
		{[]string{"--type", "bridge", "--ipv4", "10.1.0.0/24"}, "--type", `"bridge" is not a network type`},
		{[]string{"--type", "overlay", "--ipv4", "10.1.0/24"}, "--ipv4", "is not a subnet"},
		{[]string{"--type", "overlay", "--ipv4", "fd00::/64"}, "--ipv4", "pass it with --ipv6"},
		{[]string{"--type", "overlay", "--ipv4", "10.1.0.5/24"}, "--ipv4", "has host bits set"},
		{[]string{"--type", "overlay", "--ipv4", "10.1.0.0/24", "--gateway", "10.9.0.1"}, "--gateway", "outside 10.1.0.0/24"},
		{[]string{"--type", "overlay", "--ipv4", "10.1.0.0/24", "--gateway", "gw"}, "--gateway", "not an IP address"},
		{[]string{"--type", "overlay", "--ipv4", "10.1.0.0/24", "--gateway6", "fd00::1"}, "--gateway6", "without --ipv6"},
		{[]string{"--type", "overlay", "--ipv4", "10.1.0.0/24", "--range", "10.1.0.300-10.1.0.5"}, "--range", `"10.1.0.300-10.1.0.5" is not an address or a start-end range`},
		{[]string{"--type", "overlay", "--ipv4", "10.1.0.0/24", "--range", "10.1.0.50-10.1.0.10"}, "--range", "starts after it ends; write 10.1.0.10-10.1.0.50"},
		{[]string{"--type", "overlay", "--ipv4", "10.1.0.0/24", "--range", "10.1.0.1-fd00::1"}, "--range", "mixes IPv4 and IPv6"},
		{[]string{"--type", "overlay", "--ipv4", "10.1.0.0/24", "--range", "fd00::1-fd00::9"}, "--range", "IPv6 but no --ipv6 subnet"},
		{[]string{"--type", "overlay", "--ipv4", "10.1.0.0/24", "--range", "10.2.0.1-10.2.0.9"}, "--range", "is not inside 10.1.0.0/24"},
		{[]string{"--type", "overlay", "--ipv4", "10.1.0.0/24", "--range", "10.1.0.1-10.1.0.9", "--range", "10.1.0.5-10.1.0.20"}, "--range", "overlaps"},
		{[]string{"--type", "overlay", "--ipv4", "10.1.0.0/24", "--exclude", "10.1.0.x"}, "--exclude", "is not an address"},
		{[]string{"--type", "overlay", "--ipv4", "10.1.0.0/24", "--route", "192.168.0.0"}, "--route", "destination prefix"},
		{[]string{"--type", "overlay", "--ipv4", "10.1.0.0/24", "--route", "192.168.0.0/16=x"}, "--route", "not an IP address"},
		{[]string{"--type", "overlay", "--ipv4", "10.1.0.0/24", "--route", "0.0.0.0/0"}, "--route", "default route needs a next hop"},
		{[]string{"--type", "overlay", "--ipv4", "10.1.0.0/24", "--route", "192.168.0.0/16=10.9.0.1"}, "--route", "not reachable"},
		{[]string{"--type", "overlay", "--vlan", "5", "--ipv4", "10.1.0.0/24"}, "--vlan", "overlay network has no VLAN"},
		{[]string{"--type", "vlan", "--ipv4", "10.1.0.0/24", "--physical-network", "eth1"}, "--vlan", "out of range"},
		{[]string{"--type", "macvlan", "--ipv4", "10.1.0.0/24"}, "--physical-network", "needs the node NIC"},
		{[]string{"--type", "overlay", "--mtu", "100", "--ipv4", "10.1.0.0/24"}, "--mtu", "out of range"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := parseNetworkFlags(t, tc.args...)
			checkInvalid(t, err, tc.field, tc.inMessage)
		})
	}
}

// checkInvalid asserts an invalid-input error (exit code 2) on field whose message has want.
func checkInvalid(t *testing.T, err error, field, want string) {
	t.Helper()
	e, ok := err.(*model.Error)
	if !ok {
		t.Fatalf("error %v (%T), want a *model.Error on %s", err, err, field)
	}
	if e.Code != model.CodeInvalid || e.Field != field || !strings.Contains(e.Message, want) {
		t.Fatalf("error {%s %s %q}, want {invalid %s ...%q...}", e.Code, e.Field, e.Message, field, want)
	}
	if exitCode(err) != exitUsage {
		t.Fatalf("exit code %d, want %d", exitCode(err), exitUsage)
	}
}

func TestSplitName(t *testing.T) {
	for _, tc := range []struct{ arg, def, tenant, name, errField string }{
		{"demo/net1", "", "demo", "net1", ""},
		{"demo/net1", "other", "demo", "net1", ""},
		{"net1", "demo", "demo", "net1", ""},
		{"net1", "", "", "", "NETWORK"},
		{"Demo/net1", "", "", "", "NETWORK tenant"},
		{"demo/a/b", "", "", "", "NETWORK name"},
		{"demo/", "", "", "", "NETWORK name"},
	} {
		tenant, name, err := splitName("NETWORK", tc.arg, tc.def)
		if tc.errField != "" {
			if model.CodeOf(err) != model.CodeInvalid || err.(*model.Error).Field != tc.errField {
				t.Errorf("splitName(%q, %q) error %v, want one on %s", tc.arg, tc.def, err, tc.errField)
			}
			continue
		}
		if err != nil || tenant != tc.tenant || name != tc.name {
			t.Errorf("splitName(%q, %q) = %q, %q, %v; want %q, %q", tc.arg, tc.def, tenant, name, err, tc.tenant, tc.name)
		}
	}
}
