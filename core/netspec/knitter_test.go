package netspec

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

func TestParseKnitter(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []model.AttachRequest
	}{
		{"empty", "", nil},
		{"minimal", `{"ports":[{"attach_to_network":"net_api"}]}`, []model.AttachRequest{{Network: "net_api"}}},
		{"original knitter", `{"ports":[
			{"attach_to_network":"control","attributes":{"accelerate":"false","function":"control","nic_name":"eth0","nic_type":"normal"}},
			{"attach_to_network":"media","attributes":{"accelerate":"true","function":"media","nic_name":"eth1","nic_type":"direct","combinable":"true"}}
		]}`, []model.AttachRequest{
			{Network: "control", Interface: "eth0", Function: "control", NICType: "normal"},
			{Network: "media", Interface: "eth1", Function: "media", NICType: "direct", Accelerate: true},
		}},
		{"every attribute", `{"ports":[{"attach_to_network":"net_api","attributes":{
			"nic_name":"eth2","function":"oam","nic_type":"physical","accelerate":true,"ip_addr":"fd00::7",
			"combinable":false,"metadata":{"k":"v","team":"x"}}}]}`, []model.AttachRequest{{
			Network: "net_api", Interface: "eth2", Function: "oam", NICType: "physical", Accelerate: true,
			IPs: addrs("fd00::7"), Metadata: map[string]string{"k": "v", "team": "x"},
		}}},
		{"ip group", `{"ports":[{"attach_to_network":"a","attributes":{"ip_group_name":"group-1","ip_addr":""}}]}`,
			[]model.AttachRequest{{Network: "a", IPGroup: "group-1"}}},
		{"empties are absent", `{"ports":[{"attach_to_network":"a","attributes":{"nic_name":"","function":"","nic_type":"","accelerate":"","ip_addr":"","ip_group_name":"","metadata":{}}}]}`,
			[]model.AttachRequest{{Network: "a"}}},
		{"null attributes", `{"ports":[{"attach_to_network":"a","attributes":null}]}`, []model.AttachRequest{{Network: "a"}}},
		{"null metadata", `{"ports":[{"attach_to_network":"a","attributes":{"metadata":null,"accelerate":null}}]}`, []model.AttachRequest{{Network: "a"}}},
		{"eio and eth", `{"ports":[{"attach_to_network":"a","attributes":{"function":"eio"}},{"attach_to_network":"b","attributes":{"function":"std"}}]}`,
			[]model.AttachRequest{{Network: "a", Function: "eio"}, {Network: "b", Function: "std"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKnitter(tt.in)
			if err != nil {
				t.Fatalf("ParseKnitter: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseKnitterErrors(t *testing.T) {
	port := func(attrs string) string {
		return `{"ports":[{"attach_to_network":"a"},{"attach_to_network":"b","attributes":{` + attrs + `}}]}`
	}
	p1 := knitterF + ".ports[1]"
	a1 := p1 + ".attributes"
	tooMany := `{"ports":[` + strings.Repeat(`{"attach_to_network":"a"},`, MaxAttachments) + `{"attach_to_network":"a"}]}`
	tests := []errCase{
		{"too long", `{"ports":[` + strings.Repeat(" ", MaxAnnotationBytes) + `]}`, knitterF, "keep it under 64 KiB"},
		{"too many", tooMany, knitterF + ".ports[32]", "at most 32 interfaces"},
		{"syntax", `{"ports":[{"attach_to_network":"a"}]`, knitterF, "check the quotes, commas and brackets"},
		{"not object", `[{"attach_to_network":"a"}]`, knitterF, `must be a JSON object such as {"ports"`},
		{"missing ports", `{}`, knitterF + ".ports", "list the pod's interfaces as"},
		{"empty ports", `{"ports":[]}`, knitterF + ".ports", "is empty; list at least one interface"},
		{"null ports", `{"ports":null}`, knitterF + ".ports", "is empty; list at least one interface"},
		{"typo ports", `{"port":[]}`, knitterF + ".port", `did you mean "ports"?`},
		{"ports not list", `{"ports":{"attach_to_network":"a"}}`, knitterF + ".ports", "must be a JSON list"},
		{"port not object", `{"ports":["a"]}`, knitterF + ".ports[0]", "must be a JSON object"},
		{"missing network", `{"ports":[{"attributes":{"nic_name":"eth1"}}]}`, knitterF + ".ports[0].attach_to_network", "name the network this port attaches to"},
		{"bad network", `{"ports":[{"attach_to_network":"net api"}]}`, knitterF + ".ports[0].attach_to_network", "use lower-case letters"},
		{"network not string", `{"ports":[{"attach_to_network":["a"]}]}`, knitterF + ".ports[0].attach_to_network", `must be a string such as "net_api"`},
		{"unknown port key", `{"ports":[{"attach_to_network":"a","atributes":{}}]}`, knitterF + ".ports[0].atributes", `did you mean "attributes"?`},
		{"duplicate port key", `{"ports":[{"attach_to_network":"a","attach_to_network":"b"}]}`, knitterF + ".ports[0].attach_to_network", "keep one"},
		{"attributes not object", `{"ports":[{"attach_to_network":"a","attributes":"eth1"}]}`, knitterF + ".ports[0].attributes", "must be a JSON object"},
		{"unknown attribute", port(`"nic_nmae":"eth1"`), a1 + ".nic_nmae", `did you mean "nic_name"?`},
		{"far unknown attribute", port(`"colour":"red"`), a1 + ".colour", "use one of nic_name, function"},
		{"duplicate attribute", port(`"nic_name":"eth1","nic_name":"eth2"`), a1 + ".nic_name", "keep one"},
		{"nic_name space", port(`"nic_name":"eth0 "`), a1 + ".nic_name", `"eth0 " has a space; interface names may not contain whitespace`},
		{"nic_name inner space", port(`"nic_name":"e h"`), a1 + ".nic_name", "may not contain whitespace"},
		{"nic_name too long", port(`"nic_name":"abcdefghijklmnop"`), a1 + ".nic_name", "at most 15"},
		{"nic_name dotdot", port(`"nic_name":".."`), a1 + ".nic_name", "not a valid interface name"},
		{"bad function", port(`"function":"db"`), a1 + ".function", "use one of those (or leave it empty for std)"},
		{"upper function", port(`"function":"OAM"`), a1 + ".function", `use "oam"`},
		{"function not string", port(`"function":1`), a1 + ".function", "must be a string"},
		{"bad nic_type", port(`"nic_type":"sriov"`), a1 + ".nic_type", "leave it empty for normal"},
		{"bad accelerate", port(`"accelerate":"yes"`), a1 + ".accelerate", `use "true" or "false"`},
		{"accelerate long", port(`"accelerate":"` + strings.Repeat("é", 30) + `"`), a1 + ".accelerate", `…; use "true" or "false"`},
		{"accelerate number", port(`"accelerate":1`), a1 + ".accelerate", `use "true" or "false"`},
		{"bad combinable", port(`"combinable":"True"`), a1 + ".combinable", `use "true" or "false"`},
		{"ip with prefix", port(`"ip_addr":"10.1.1.5/24"`), a1 + ".ip_addr", `give the address alone ("10.1.1.5")`},
		{"bad ip", port(`"ip_addr":"10.1.1.256"`), a1 + ".ip_addr", `write one such as "10.1.1.5" or "fd00::5"`},
		{"ip list", port(`"ip_addr":["10.1.1.5"]`), a1 + ".ip_addr", `must be a string such as "10.1.1.5"`},
		{"ip multicast", port(`"ip_addr":"ff02::1"`), a1 + ".ip_addr", "unicast"},
		{"ip and group", port(`"ip_addr":"10.1.1.5","ip_group_name":"g"`), a1 + ".ip_group_name", "so drop one"},
		{"group and ip", port(`"ip_group_name":"g","ip_addr":"10.1.1.5"`), a1 + ".ip_group_name", "so drop one"},
		{"bad group", port(`"ip_group_name":"G"`), a1 + ".ip_group_name", `use "g"`},
		{"metadata not object", port(`"metadata":"x"`), a1 + ".metadata", `must be a JSON object such as {"key": "value"}`},
		{"metadata number", port(`"metadata":{"a":"b","n":1}`), a1 + `.metadata["n"]`, "quote it"},
		{"metadata null value", port(`"metadata":{"n":null}`), a1 + `.metadata["n"]`, "quote it"},
		{"metadata empty key", port(`"metadata":{"":"x"}`), a1 + `.metadata[""]`, "give every metadata entry a name"},
		{"metadata duplicate", port(`"metadata":{"a":"1","a":"2"}`), a1 + ".metadata.a", "keep one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKnitter(tt.in)
			if err == nil {
				t.Fatalf("ParseKnitter(%.80q) = %+v, want an error", tt.in, got)
			}
			if got != nil {
				t.Errorf("requests returned with an error: %+v", got)
			}
			checkInvalid(t, err, tt.field, tt.fix)
		})
	}
}

func ExampleParseKnitter() {
	reqs, err := ParseKnitter(`{"ports": [
		{"attach_to_network": "net_api", "attributes": {"function": "std", "nic_name": "eth0"}},
		{"attach_to_network": "media", "attributes": {"nic_type": "direct", "ip_addr": "10.1.1.5"}}]}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range reqs {
		fmt.Printf("%s %q %s %v\n", r.Network, r.Interface, r.NICType, r.IPs)
	}
	_, err = ParseKnitter(`{"ports": [{"attach_to_network": "a", "attributes": {"ip_addr": "10.1.1.5/24"}}]}`)
	fmt.Println(err)
	// Output:
	// net_api "eth0"  []
	// media "" direct [10.1.1.5]
	// annotations["networks"].ports[0].attributes.ip_addr: "10.1.1.5/24" has a prefix length; give the address alone ("10.1.1.5"): the network's subnet sets the prefix
}
