package netspec

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

// names returns the interface names of reqs and the index of the default route, for compact tables.
func names(reqs []model.AttachRequest) (string, int) {
	var n []string
	route := -1
	for i, r := range reqs {
		n = append(n, r.Network+":"+r.Interface)
		if r.DefaultRoute {
			route = i
		}
	}
	return strings.Join(n, " "), route
}

func TestNormalize(t *testing.T) {
	k := func(network, ifname string) model.AttachRequest {
		return model.AttachRequest{Network: network, Interface: ifname}
	}
	opts := Options{PodNamespace: "ns", DefaultNetwork: "def"}
	noDef := Options{PodNamespace: "ns"}
	tests := []struct {
		name      string
		reqs      []model.AttachRequest
		npwgStart int
		opts      Options
		want      string
		route     int
	}{
		{"nothing: default as eth0", nil, 0, opts, "def:eth0", 0},
		{"npwg: default prepended", []model.AttachRequest{k("a", ""), k("b", "")}, 0, opts, "def:eth0 a:net1 b:net2", 0},
		{"npwg: named eth0 replaces default", []model.AttachRequest{k("a", ""), k("b", "eth0")}, 0, opts, "a:net1 b:eth0", 1},
		{"npwg: no default network", []model.AttachRequest{k("a", ""), k("b", "")}, 0, noDef, "a:net1 b:net2", 0},
		{"npwg: skip taken names", []model.AttachRequest{k("a", ""), k("b", "net1"), k("c", ""), k("d", "net3")}, 0, opts,
			"def:eth0 a:net2 b:net1 c:net4 d:net3", 0},
		{"npwg: explicit default route wins", []model.AttachRequest{k("a", ""), {Network: "b", DefaultRoute: true}}, 0, opts,
			"def:eth0 a:net1 b:net2", 2},
		{"knitter: full NIC set, no default", []model.AttachRequest{k("a", ""), k("b", ""), k("c", "")}, 3, opts, "a:eth0 b:eth1 c:eth2", 0},
		{"knitter: skip taken", []model.AttachRequest{k("a", ""), k("b", "eth0"), k("c", ""), k("d", "eth2")}, 4, opts,
			"a:eth1 b:eth0 c:eth3 d:eth2", 1},
		{"knitter: no eth0, first gets route", []model.AttachRequest{k("a", "data1"), k("b", "data2")}, 2, opts, "a:data1 b:data2", 0},
		{"knitter then npwg", []model.AttachRequest{k("a", ""), k("b", "net1"), k("c", ""), k("d", "eth1")}, 2, opts,
			"a:eth0 b:net1 c:net2 d:eth1", 0},
		{"knitter names skip npwg's", []model.AttachRequest{k("a", ""), k("b", ""), k("c", "eth0")}, 2, opts,
			"a:eth1 b:eth2 c:eth0", 2},
		{"npwg route with knitter", []model.AttachRequest{k("a", ""), {Network: "b", DefaultRoute: true}}, 1, opts, "a:eth0 b:net1", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]model.AttachRequest(nil), tt.reqs...)
			got, err := Normalize(tt.reqs, tt.opts, tt.npwgStart)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if n, r := names(got); n != tt.want || r != tt.route {
				t.Errorf("got  %s (route %d)\nwant %s (route %d)", n, r, tt.want, tt.route)
			}
			if !reflect.DeepEqual(tt.reqs, in) {
				t.Errorf("Normalize modified its input: %+v", tt.reqs)
			}
			again, err := Normalize(got, tt.opts, len(got))
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("normalizing again = %+v, %v; want it unchanged", again, err)
			}
		})
	}
}

func TestNormalizeDefaultNetworkRequest(t *testing.T) {
	got, err := Normalize(nil, Options{PodNamespace: "ns", DefaultNetwork: "def"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []model.AttachRequest{{Network: "def", Interface: "eth0", DefaultRoute: true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestNormalizeErrors(t *testing.T) {
	k := func(network, ifname string) model.AttachRequest {
		return model.AttachRequest{Network: network, Interface: ifname}
	}
	many := func(n int) []model.AttachRequest {
		out := make([]model.AttachRequest, n)
		for i := range out {
			out[i] = k("a", "")
		}
		return out
	}
	opts := Options{PodNamespace: "team-1", DefaultNetwork: "def"}
	tests := []struct {
		name      string
		reqs      []model.AttachRequest
		npwgStart int
		opts      Options
		field     string
		fix       string
	}{
		{"no default network", nil, 0, Options{PodNamespace: "team-1"}, "annotations",
			`namespace "team-1" has no default network and the pod asks for none; set default_network on tenant "team-1", or annotate the pod`},
		{"bad default network", []model.AttachRequest{k("a", "")}, 0, Options{DefaultNetwork: "Def"}, "default_network", `use "def"`},
		{"too many in total", many(33), 20, opts, npwgF + "[12]", "at most 32 interfaces"},
		{"too many knitter", many(33), 33, opts, knitterF + ".ports[32]", "at most 32 interfaces"},
		{"default makes too many", many(32), 0, opts, npwgF + "[31]", "name one of them eth0"},
		{"duplicate npwg names", []model.AttachRequest{k("a", "net1"), k("b", ""), k("c", "net1")}, 0, opts,
			npwgF + "[2].interface", `"net1" is also the interface of ` + npwgF + "[0]; give each attachment its own name"},
		{"duplicate across annotations", []model.AttachRequest{k("a", "eth1"), k("b", "eth1")}, 1, opts,
			npwgF + "[0].interface", `is also the interface of ` + knitterF + ".ports[0]"},
		{"duplicate knitter names", []model.AttachRequest{k("a", "eth1"), k("b", "eth1")}, 2, opts,
			knitterF + ".ports[1].attributes.nic_name", "give each attachment its own name"},
		{"two default routes", []model.AttachRequest{k("a", ""), {Network: "b", DefaultRoute: true}, {Network: "c", DefaultRoute: true}}, 0, opts,
			npwgF + "[2].default-route", "so does " + npwgF + "[1]; a pod has one default route, so keep it on one attachment"},
		// Requests built by other means than the parsers get the same checks.
		{"bad network", []model.AttachRequest{k("Net", "")}, 0, opts, npwgF + "[0].name", `use "net"`},
		{"bad knitter network", []model.AttachRequest{k("", "")}, 1, opts, knitterF + ".ports[0].attach_to_network", "give a name"},
		{"bad tenant", []model.AttachRequest{{Network: "a", Tenant: "T"}}, 0, opts, npwgF + "[0].namespace", `use "t"`},
		{"bad interface", []model.AttachRequest{k("a", "eth0 ")}, 1, opts, knitterF + ".ports[0].attributes.nic_name", "has a space"},
		{"bad ip", []model.AttachRequest{{Network: "a", IPs: []netip.Addr{{}}}}, 0, opts, npwgF + "[0].ips[0]", "give one such as"},
		{"two v6", []model.AttachRequest{{Network: "a", IPs: addrs("fd00::1", "fd00::2")}}, 1, opts,
			knitterF + ".ports[0].attributes.ip_addr[1]", "at most one address per family"},
		{"multicast mac", []model.AttachRequest{{Network: "a", MAC: mac("03:00:00:00:00:01")}}, 0, opts, npwgF + "[0].mac", "first byte is even"},
		{"ips and group", []model.AttachRequest{{Network: "a", IPs: addrs("10.0.0.5"), IPGroup: "g"}}, 1, opts,
			knitterF + ".ports[0].attributes.ip_group_name", "so drop one"},
		{"bad group", []model.AttachRequest{{Network: "a", IPGroup: "-g"}}, 0, opts, npwgF + "[0].ip_group", "starting and ending with a letter or digit"},
		{"bad function", []model.AttachRequest{{Network: "a", Function: "x"}}, 1, opts, knitterF + ".ports[0].attributes.function", "leave it empty for std"},
		{"bad nic type", []model.AttachRequest{{Network: "a", NICType: "x"}}, 1, opts, knitterF + ".ports[0].attributes.nic_type", "leave it empty for normal"},
		{"bad cni args", []model.AttachRequest{{Network: "a", CNIArgs: "[1]"}}, 0, opts, npwgF + "[0].cni-args", "must be a JSON object"},
		{"null cni args", []model.AttachRequest{{Network: "a", CNIArgs: "null"}}, 0, opts, npwgF + "[0].cni-args", "must be a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.reqs, tt.opts, tt.npwgStart)
			if err == nil {
				t.Fatalf("Normalize = %+v, want an error", got)
			}
			if got != nil {
				t.Errorf("requests returned with an error: %+v", got)
			}
			checkInvalid(t, err, tt.field, tt.fix)
		})
	}
}

func TestNormalizeBadStartPanics(t *testing.T) {
	for _, start := range []int{-1, 2} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Normalize(npwgStart=%d) did not panic", start)
				}
			}()
			_, _ = Normalize([]model.AttachRequest{{Network: "a"}}, Options{}, start)
		}()
	}
}
