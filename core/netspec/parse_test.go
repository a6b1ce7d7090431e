package netspec

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

func TestParse(t *testing.T) {
	opts := Options{PodNamespace: "team-1", DefaultNetwork: "def"}
	tests := []struct {
		name  string
		annos map[string]string
		opts  Options
		want  []model.AttachRequest
	}{
		{"no annotations", nil, opts, []model.AttachRequest{{Network: "def", Interface: "eth0", DefaultRoute: true}}},
		{"blank annotations count as absent", map[string]string{NPWGAnnotation: " ", KnitterAnnotation: "\n"}, opts,
			[]model.AttachRequest{{Network: "def", Interface: "eth0", DefaultRoute: true}}},
		{"other annotations ignored", map[string]string{"k8s.v1.cni.cncf.io/network-status": "[]"}, opts,
			[]model.AttachRequest{{Network: "def", Interface: "eth0", DefaultRoute: true}}},
		{"npwg csv", map[string]string{NPWGAnnotation: "net-a,other/net-b@data1"}, opts, []model.AttachRequest{
			{Network: "def", Interface: "eth0", DefaultRoute: true},
			{Network: "net-a", Tenant: "team-1", Interface: "net1"},
			{Network: "net-b", Tenant: "other", Interface: "data1"},
		}},
		{"npwg json default route", map[string]string{NPWGAnnotation: `[{"name":"net-a","default-route":["10.1.1.1"],"ips":["10.1.1.5/24"]}]`}, opts,
			[]model.AttachRequest{
				{Network: "def", Interface: "eth0"},
				{Network: "net-a", Tenant: "team-1", Interface: "net1", DefaultRoute: true, IPs: addrs("10.1.1.5"),
					IPPrefixes: []netip.Prefix{netip.MustParsePrefix("10.1.1.5/24")}, Gateways: addrs("10.1.1.1")},
			}},
		{"knitter only", map[string]string{KnitterAnnotation: `{"ports":[{"attach_to_network":"control"},{"attach_to_network":"media","attributes":{"nic_type":"direct"}}]}`}, opts,
			[]model.AttachRequest{
				{Network: "control", Interface: "eth0", DefaultRoute: true},
				{Network: "media", Interface: "eth1", NICType: "direct"},
			}},
		{"both: knitter first", map[string]string{
			NPWGAnnotation:    `[{"name":"net-a"},{"name":"net-b","interface":"eth1"}]`,
			KnitterAnnotation: `{"ports":[{"attach_to_network":"control"},{"attach_to_network":"media"}]}`,
		}, opts, []model.AttachRequest{
			{Network: "control", Interface: "eth0", DefaultRoute: true},
			{Network: "media", Interface: "eth2"},
			{Network: "net-a", Tenant: "team-1", Interface: "net1"},
			{Network: "net-b", Tenant: "team-1", Interface: "eth1"},
		}},
		{"npwg names eth0 without default network", map[string]string{NPWGAnnotation: "a@eth0"}, Options{PodNamespace: "team-1"},
			[]model.AttachRequest{{Network: "a", Tenant: "team-1", Interface: "eth0", DefaultRoute: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.annos, tt.opts)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	opts := Options{PodNamespace: "team-1", DefaultNetwork: "def"}
	tests := []struct {
		name  string
		annos map[string]string
		opts  Options
		field string
		fix   string
	}{
		{"no request, no default", nil, Options{PodNamespace: "team-1"}, "annotations", `set default_network on tenant "team-1"`},
		// As in the original Knitter: an annotation with no port is an error, not "no annotation".
		{"knitter with no ports", map[string]string{KnitterAnnotation: `{"ports":[]}`, NPWGAnnotation: "net-a"}, opts,
			knitterF + ".ports", "is empty; list at least one interface"},
		{"bad knitter", map[string]string{KnitterAnnotation: `{"ports":[{}]}`, NPWGAnnotation: "a"}, opts,
			knitterF + ".ports[0].attach_to_network", "name the network"},
		{"bad npwg", map[string]string{KnitterAnnotation: `{"ports":[{"attach_to_network":"a"}]}`, NPWGAnnotation: "a,"}, opts,
			npwgF + "[1]", "remove the extra comma"},
		{"duplicate across", map[string]string{
			KnitterAnnotation: `{"ports":[{"attach_to_network":"a","attributes":{"nic_name":"data"}}]}`,
			NPWGAnnotation:    "b@data",
		}, opts, npwgF + "[0].interface", "is also the interface of " + knitterF + ".ports[0]"},
		{"too many across", map[string]string{
			KnitterAnnotation: `{"ports":[` + repeatJSON(`{"attach_to_network":"a"}`, 20) + `]}`,
			NPWGAnnotation:    repeatCSV("b", 20),
		}, opts, npwgF + "[12]", "at most 32 interfaces"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.annos, tt.opts)
			if err == nil {
				t.Fatalf("Parse = %+v, want an error", got)
			}
			checkInvalid(t, err, tt.field, tt.fix)
		})
	}
}

func repeatJSON(elem string, n int) string {
	s := elem
	for range n - 1 {
		s += "," + elem
	}
	return s
}

func repeatCSV(elem string, n int) string { return repeatJSON(elem, n) }

// TestParseDeterministic parses the same rich input many times, each time from a freshly built map,
// and requires byte-identical output: nothing may depend on map order or on earlier calls.
func TestParseDeterministic(t *testing.T) {
	build := func() map[string]string {
		return map[string]string{
			KnitterAnnotation: `{"ports":[{"attach_to_network":"a","attributes":{"metadata":{"z":"1","a":"2","m":"3"},"function":"oam"}},
				{"attach_to_network":"b","attributes":{"nic_name":"eth3","ip_addr":"fd00::9"}},{"attach_to_network":"c"}]}`,
			NPWGAnnotation: `[{"name":"x","cni-args":{"z":1,"a":{"y":2,"b":3}}},{"name":"y","interface":"net1","ips":["10.0.0.9/8"]},{"name":"z","mac":"02:00:00:00:00:09"}]`,
			"unrelated":    "1",
		}
	}
	opts := Options{PodNamespace: "team-1", DefaultNetwork: "def"}
	first, err := Parse(build(), opts)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(first)
	for i := range 200 {
		got, err := Parse(build(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := json.Marshal(got); string(b) != string(want) {
			t.Fatalf("run %d differs:\n%s\n%s", i, b, want)
		}
	}
	// Errors must be deterministic too: this input has several faults; the first in reading order is
	// reported every time.
	bad := map[string]string{NPWGAnnotation: `[{"name":"a","zz":1,"yy":2,"interface":"x y","ips":["q"]}]`}
	for range 50 {
		_, err := Parse(bad, opts)
		checkInvalid(t, err, npwgF+"[0].zz", "use one of")
	}
}

func TestCheckAddresses(t *testing.T) {
	n := &model.Network{
		Name: "net-a", Tenant: "t", Type: model.Overlay,
		IPv4: &model.Subnet{CIDR: netip.MustParsePrefix("10.1.0.0/16"), Gateway: netip.MustParseAddr("10.1.0.1"),
			Exclude: []model.Range{{Start: netip.MustParseAddr("10.1.9.0"), End: netip.MustParseAddr("10.1.9.255")}}},
		IPv6: &model.Subnet{CIDR: netip.MustParsePrefix("fd00:1::/64")},
	}
	v4only := &model.Network{Name: "v4", Tenant: "t", Type: model.Overlay, IPv4: n.IPv4}
	v6only := &model.Network{Name: "v6", Tenant: "t", Type: model.Overlay, IPv6: n.IPv6}
	const f = `annotations["networks"].ports[1]`
	ok := []struct {
		req model.AttachRequest
		n   *model.Network
	}{
		{model.AttachRequest{Network: "net-a"}, n},
		{model.AttachRequest{Network: "net-a", IPs: addrs("10.1.2.3", "fd00:1::5"), MAC: mac("02:00:00:00:00:01")}, n},
		{model.AttachRequest{Network: "net-a", IPs: addrs("fd00:1::ffff:ffff:ffff:ffff")}, n},
		{model.AttachRequest{Network: "net-a", IPs: addrs("10.1.255.254")}, n},
		{model.AttachRequest{Network: "net-a", IPGroup: "g"}, n},
	}
	for _, tt := range ok {
		if err := CheckAddresses(f, tt.req, tt.n); err != nil {
			t.Errorf("CheckAddresses(%+v): %v", tt.req, err)
		}
	}
	bad := []struct {
		name  string
		req   model.AttachRequest
		n     *model.Network
		field string
		fix   string
	}{
		{"outside", model.AttachRequest{IPs: addrs("10.2.0.5")}, n, f + ".ips[0]", `is outside network "net-a"'s subnet 10.1.0.0/16; pick an address inside it`},
		{"outside v6", model.AttachRequest{IPs: addrs("10.1.0.5", "fd00:2::1")}, n, f + ".ips[1]", "pick an address inside it"},
		{"no v6 subnet", model.AttachRequest{IPs: addrs("fd00:1::5")}, v4only, f + ".ips[0]", `network "v4" has no IPv6 subnet; drop the address or attach to a network with one`},
		{"no v4 subnet", model.AttachRequest{IPs: addrs("10.1.0.5")}, v6only, f + ".ips[0]", "has no IPv4 subnet"},
		{"network address", model.AttachRequest{IPs: addrs("10.1.0.0")}, n, f + ".ips[0]", "network address of 10.1.0.0/16; pick a host address"},
		{"v6 network address", model.AttachRequest{IPs: addrs("fd00:1::")}, n, f + ".ips[0]", "pick a host address"},
		{"broadcast", model.AttachRequest{IPs: addrs("10.1.255.255")}, n, f + ".ips[0]", "broadcast address of 10.1.0.0/16; pick a host address"},
		{"gateway", model.AttachRequest{IPs: addrs("10.1.0.1")}, n, f + ".ips[0]", "is the gateway of 10.1.0.0/16; pick another address"},
		{"excluded", model.AttachRequest{IPs: addrs("10.1.9.7")}, n, f + ".ips[0]", "pick an address outside the excluded ranges"},
		{"two per family", model.AttachRequest{IPs: addrs("10.1.0.5", "10.1.0.6")}, n, f + ".ips[1]", "at most one address per family"},
		{"mapped", model.AttachRequest{IPs: addrs("::ffff:10.1.0.5")}, n, f + ".ips[0]", "write it as 10.1.0.5"},
		{"invalid", model.AttachRequest{IPs: []netip.Addr{{}}}, n, f + ".ips[0]", "give one such as"},
		{"multicast mac", model.AttachRequest{MAC: mac("ff:ff:ff:ff:ff:ff")}, n, f + ".mac", "give a unicast MAC"},
		{"group and ip", model.AttachRequest{IPs: addrs("10.1.0.5"), IPGroup: "g"}, n, f + ".ip_group", "so drop one"},
		{"bad group", model.AttachRequest{IPGroup: "G"}, n, f + ".ip_group", `use "g"`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			checkInvalid(t, CheckAddresses(f, tt.req, tt.n), tt.field, tt.fix)
		})
	}
}

func ExampleParse() {
	reqs, err := Parse(map[string]string{
		NPWGAnnotation: `[{"name": "net-a", "ips": ["10.1.1.5/24"]}, {"name": "net-b", "interface": "data1"}]`,
	}, Options{PodNamespace: "team-1", DefaultNetwork: "default-net"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range reqs {
		fmt.Printf("%-6s %-12s default-route=%v ips=%v\n", r.Interface, r.Network, r.DefaultRoute, r.IPs)
	}
	_, err = Parse(nil, Options{PodNamespace: "team-1"})
	fmt.Println(err)
	// Output:
	// eth0   default-net  default-route=true ips=[]
	// net1   net-a        default-route=false ips=[10.1.1.5]
	// data1  net-b        default-route=false ips=[]
	// annotations: namespace "team-1" has no default network and the pod asks for none; set default_network on tenant "team-1", or annotate the pod with k8s.v1.cni.cncf.io/networks: net-a (or Knitter's "networks" annotation)
}
