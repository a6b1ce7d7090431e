package netspec

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

func TestParseNPWG(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []model.AttachRequest
	}{
		{"empty", "", nil},
		{"blank", "  \n\t", nil},
		{"csv name", "net-a", []model.AttachRequest{{Network: "net-a", Tenant: "pod-ns"}}},
		{"csv forms", " net-a , other/net-b,net-c@net5, other/net_d@data0 ", []model.AttachRequest{
			{Network: "net-a", Tenant: "pod-ns"},
			{Network: "net-b", Tenant: "other"},
			{Network: "net-c", Tenant: "pod-ns", Interface: "net5"},
			{Network: "net_d", Tenant: "other", Interface: "data0"},
		}},
		{"csv same network twice", "net-a,net-a", []model.AttachRequest{
			{Network: "net-a", Tenant: "pod-ns"}, {Network: "net-a", Tenant: "pod-ns"},
		}},
		{"json minimal", `[{"name":"net-a"}]`, []model.AttachRequest{{Network: "net-a", Tenant: "pod-ns"}}},
		{"json empty list", `[]`, []model.AttachRequest{}},
		{"json every key", `[{
			"name": "net-b", "namespace": "other", "interface": "data1",
			"ips": ["10.1.1.5/24", "fd00::5"], "mac": "02:23:45:67:89:01",
			"default-route": ["10.1.1.1"], "cni-args": {"a": [1, 2], "b": {"c": "d"}}
		}]`, []model.AttachRequest{{
			Network: "net-b", Tenant: "other", Interface: "data1", IPs: addrs("10.1.1.5", "fd00::5"),
			IPPrefixes: []netip.Prefix{netip.MustParsePrefix("10.1.1.5/24")}, Gateways: addrs("10.1.1.1"),
			MAC: mac("02:23:45:67:89:01"), DefaultRoute: true, CNIArgs: `{"a":[1,2],"b":{"c":"d"}}`,
		}}},
		{"json plain ip", `[{"name":"a","ips":["10.2.2.42"]}]`, []model.AttachRequest{{Network: "a", Tenant: "pod-ns", IPs: addrs("10.2.2.42")}}},
		{"json nulls and empties are absent", `[{"name":"a","namespace":"","interface":"","ips":[],"mac":"","default-route":[],"cni-args":null,"namespace2.example.com":1}]`,
			[]model.AttachRequest{{Network: "a", Tenant: "pod-ns"}}},
		{"json null lists", `[{"name":"a","ips":null,"default-route":null,"interface":null}]`, []model.AttachRequest{{Network: "a", Tenant: "pod-ns"}}},
		{"json empty cni-args", `[{"name":"a","cni-args":{}}]`, []model.AttachRequest{{Network: "a", Tenant: "pod-ns"}}},
		{"json extension key ignored", `[{"name":"a","org.example.vendor-key":{"x":1}}]`, []model.AttachRequest{{Network: "a", Tenant: "pod-ns"}}},
		{"json order kept", `[{"name":"c"},{"name":"a"},{"name":"b","interface":"net1"}]`, []model.AttachRequest{
			{Network: "c", Tenant: "pod-ns"}, {Network: "a", Tenant: "pod-ns"}, {Network: "b", Tenant: "pod-ns", Interface: "net1"},
		}},
		{"at the limit", strings.Repeat("a,", MaxAttachments-1) + "a", func() []model.AttachRequest {
			out := make([]model.AttachRequest, MaxAttachments)
			for i := range out {
				out[i] = model.AttachRequest{Network: "a", Tenant: "pod-ns"}
			}
			return out
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNPWG(tt.in, "pod-ns")
			if err != nil {
				t.Fatalf("ParseNPWG: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseNPWGErrors(t *testing.T) {
	tooMany := strings.Repeat("a,", MaxAttachments) + "a"
	tooManyJSON := "[" + strings.Repeat(`{"name":"a"},`, MaxAttachments) + `{"name":"a"}]`
	tests := []errCase{
		{"too long", strings.Repeat("a", MaxAnnotationBytes+1), npwgF, "keep it under 64 KiB"},
		{"too many csv", tooMany, npwgF + "[32]", "at most 32 interfaces"},
		{"too many json", tooManyJSON, npwgF + "[32]", "at most 32 interfaces"},
		// Comma-separated form.
		{"csv empty element", "a,,b", npwgF + "[1]", "remove the extra comma"},
		{"csv trailing comma", "a,b,", npwgF + "[2]", "remove the extra comma"},
		{"csv two slashes", "x/y/z", npwgF + "[0].name", "write namespace/name"},
		{"csv empty namespace", "/net-a", npwgF + "[0].namespace", "give the namespace or drop the '/'"},
		{"csv empty name", "ns/", npwgF + "[0].name", "give the network's name"},
		{"csv empty name before @", "@net1", npwgF + "[0].name", "give the network's name"},
		{"csv bad namespace", "Other/net-a", npwgF + "[0].namespace", `use "other"`},
		{"csv bad name", "a,net a", npwgF + "[1].name", "use lower-case letters"},
		{"csv empty ifname", "net-a@", npwgF + "[0].interface", "drop the '@'"},
		{"csv two @", "net-a@x@y", npwgF + "[0].interface", "write namespace/name@interface"},
		{"csv long ifname", "net-a@abcdefghijklmnop", npwgF + "[0].interface", "at most 15"},
		{"csv ifname slash", "net-a@a:b", npwgF + "[0].interface", "may not contain"},
		{"csv ifname non-ascii", "net-a@eth\xe8", npwgF + "[0].interface", "use ASCII letters"},
		{"csv ifname utf-8", "net-a@ethé", npwgF + "[0].interface", "non-ASCII byte at position 3"},
		{"csv ifname lo", "net-a@lo", npwgF + "[0].interface", "pick another name"},
		{"csv single object", `{"name":"a"}`, npwgF, "wrap it in [ ]"},
		// JSON form.
		{"json syntax", `[{"name":"a",}]`, npwgF, "check the quotes, commas and brackets"},
		{"json trailing text", `[{"name":"a"}] x`, npwgF, "check the quotes, commas and brackets"},
		{"json element not object", `["net-a"]`, npwgF + "[0]", `must be a JSON object such as {"name": "net-a"}`},
		{"json missing name", `[{"interface":"net1"}]`, npwgF + "[0].name", "every element needs the network's name"},
		{"json null name", `[{"name":null}]`, npwgF + "[0].name", "every element needs the network's name"},
		{"json name not string", `[{"name":5}]`, npwgF + "[0].name", `must be a string such as "net-a"`},
		{"json bad name", `[{"name":"Net-A"}]`, npwgF + "[0].name", `use "net-a"`},
		{"json bad namespace", `[{"name":"a","namespace":"my ns"}]`, npwgF + "[0].namespace", "use lower-case letters"},
		{"json interface space", `[{"name":"a"},{"name":"b"},{"name":"c","interface":"eth0 "}]`, npwgF + "[2].interface", `"eth0 " has a space; interface names may not contain whitespace (use "eth0")`},
		{"json interface tab", `[{"name":"a","interface":"a\tb"}]`, npwgF + "[0].interface", "may not contain whitespace"},
		{"json interface not string", `[{"name":"a","interface":1}]`, npwgF + "[0].interface", `must be a string such as "net1"`},
		{"json typo key", `[{"name":"a","interfce":"net1"}]`, npwgF + "[0].interfce", `did you mean "interface"?`},
		{"json unknown key", `[{"name":"a","zzzzzzzz":1}]`, npwgF + "[0].zzzzzzzz", "use one of name, namespace"},
		{"json odd unknown key", `[{"name":"a","x y":1}]`, npwgF + `[0]["x y"]`, "use one of name"},
		{"json upper-case key", `[{"Name":"a"}]`, npwgF + "[0].Name", `did you mean "name"?`},
		{"json duplicate key", `[{"name":"a","name":"b"}]`, npwgF + "[0].name", "keep one"},
		{"json unsupported key", `[{"name":"a","bandwidth":{"ingressRate":1}}]`, npwgF + "[0].bandwidth", "Knitter does not support; remove it"},
		{"json infiniband", `[{"name":"a","infiniband-guid":"x"}]`, npwgF + `[0].infiniband-guid`, "remove it"},
		{"json ips not list", `[{"name":"a","ips":"10.1.1.5"}]`, npwgF + "[0].ips", `must be a JSON list such as ["10.1.1.5/24", "fd00::5"]`},
		{"json ips element not string", `[{"name":"a","ips":["10.1.1.5",5]}]`, npwgF + "[0].ips[1]", "write the list as"},
		{"json ips null element", `[{"name":"a","ips":[null]}]`, npwgF + "[0].ips[0]", "write the list as"},
		{"json bad ip", `[{"name":"a","ips":["10.1.1"]}]`, npwgF + "[0].ips[0]", `write one such as "10.1.1.5"`},
		{"json bad cidr", `[{"name":"a","ips":["10.1.1.5/33"]}]`, npwgF + "[0].ips[0]", `write one such as "10.1.1.5/24"`},
		{"json two v4", `[{"name":"a","ips":["10.1.1.5","fd00::1","10.1.1.6/24"]}]`, npwgF + "[0].ips[2]", "at most one address per family"},
		{"json zone", `[{"name":"a","ips":["fe80::1%eth0"]}]`, npwgF + "[0].ips[0]", "without"},
		{"json mapped", `[{"name":"a","ips":["::ffff:10.1.1.5"]}]`, npwgF + "[0].ips[0]", "write it as 10.1.1.5"},
		{"json unspecified", `[{"name":"a","ips":["0.0.0.0"]}]`, npwgF + "[0].ips[0]", "give the pod's own address"},
		{"json loopback", `[{"name":"a","ips":["::1"]}]`, npwgF + "[0].ips[0]", "give an address of the network's subnet"},
		{"json multicast", `[{"name":"a","ips":["224.0.0.5"]}]`, npwgF + "[0].ips[0]", "give a unicast address"},
		{"json bad mac", `[{"name":"a","mac":"02:00:00"}]`, npwgF + "[0].mac", `such as "02:00:00:00:00:01"`},
		{"json ipoib mac", `[{"name":"a","mac":"80:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22"}]`, npwgF + "[0].mac", "48-bit"},
		{"json multicast mac", `[{"name":"a","mac":"01:00:5e:00:00:01"}]`, npwgF + "[0].mac", "first byte is even"},
		{"json mac not string", `[{"name":"a","mac":2}]`, npwgF + "[0].mac", "must be a string"},
		{"json bad gateway", `[{"name":"a","default-route":["10.1.1"]}]`, npwgF + "[0].default-route[0]", `give one such as "10.1.1.1"`},
		{"json default-route not list", `[{"name":"a","default-route":true}]`, npwgF + "[0].default-route", "must be a JSON list"},
		{"json cni-args not object", `[{"name":"a","cni-args":[1]}]`, npwgF + "[0].cni-args", `must be a JSON object such as {"key": "value"}`},
		{"json cni-args duplicate", `[{"name":"a","cni-args":{"x":1,"x":2}}]`, npwgF + "[0].cni-args.x", "keep one"},
		{"quoted csv", `"net-a"`, npwgF + "[0].name", "use lower-case letters"},
		{"json second element", `[{"name":"a"},{"name":"b","ips":["x"]}]`, npwgF + "[1].ips[0]", "is not an IP address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNPWG(tt.in, "pod-ns")
			if err == nil {
				t.Fatalf("ParseNPWG(%.60q) = %+v, want an error", tt.in, got)
			}
			if got != nil {
				t.Errorf("requests returned with an error: %+v", got)
			}
			checkInvalid(t, err, tt.field, tt.fix)
		})
	}
}

// TestParseNPWGPodNamespace checks that elements without a namespace take the pod's in both forms.
func TestParseNPWGPodNamespace(t *testing.T) {
	for _, in := range []string{"net-a", `[{"name":"net-a"}]`, `[{"name":"net-a","namespace":""}]`} {
		for _, ns := range []string{"", "team-1"} {
			got, err := ParseNPWG(in, ns)
			if err != nil {
				t.Fatal(err)
			}
			if got[0].Tenant != ns {
				t.Errorf("ParseNPWG(%q, %q) tenant = %q, want %q", in, ns, got[0].Tenant, ns)
			}
		}
	}
}

func TestParseNPWGBadPodNamespace(t *testing.T) {
	_, err := ParseNPWG("net-a", "Team")
	checkInvalid(t, err, "pod_namespace", `use "team"`)
	// A blank annotation asks for nothing, so the namespace is not looked at.
	if reqs, err := ParseNPWG(" ", "Team"); reqs != nil || err != nil {
		t.Errorf("ParseNPWG(blank) = %v, %v; want nil, nil", reqs, err)
	}
}

func TestNearest(t *testing.T) {
	known := []string{"name", "namespace", "interface"}
	for _, tt := range []struct{ key, want string }{
		{"interfce", "interface"}, {"INTERFACE", "interface"}, {"nmae", "name"}, {"names", "name"},
		{"nam", "name"}, {"zzzz", ""}, {strings.Repeat("x", 100), ""},
	} {
		if got := nearest(tt.key, known); got != tt.want {
			t.Errorf("nearest(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

func ExampleParseNPWG() {
	reqs, err := ParseNPWG("net-a, other/net-b@data1", "team-1")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range reqs {
		fmt.Printf("%s/%s %q\n", r.Tenant, r.Network, r.Interface)
	}
	_, err = ParseNPWG(`[{"name": "net-a", "interfce": "net1"}]`, "team-1")
	fmt.Println(err)
	// Output:
	// team-1/net-a ""
	// other/net-b "data1"
	// annotations["k8s.v1.cni.cncf.io/networks"][0].interfce: is not an NPWG network selection key; did you mean "interface"?
}
