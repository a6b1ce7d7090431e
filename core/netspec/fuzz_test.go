package netspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

// The fuzz targets check the parsers against the rules stated independently below, not against the
// parsers' own helpers, so that a bug shared by both would still show.

// requestProblems lists the per-request rules r breaks.
func requestProblems(i int, r model.AttachRequest) []string {
	var p []string
	bad := func(format string, args ...any) { p = append(p, fmt.Sprintf("[%d] ", i)+fmt.Sprintf(format, args...)) }
	if model.ValidateName("", r.Network) != nil {
		bad("network %q is not a valid name", r.Network)
	}
	if r.Tenant != "" && model.ValidateName("", r.Tenant) != nil {
		bad("tenant %q is not a valid name", r.Tenant)
	}
	if r.Interface != "" && (model.ValidateInterfaceName("", r.Interface) != nil || strings.ContainsAny(r.Interface, " \t\n\r\v\f") || r.Interface == "lo" || !isASCII(r.Interface)) {
		bad("interface %q is not a valid Linux name", r.Interface)
	}
	var v4, v6 int
	for _, a := range r.IPs {
		switch {
		case !a.IsValid() || a.Zone() != "" || a.Is4In6() || a.IsUnspecified() || a.IsMulticast() || a.IsLoopback():
			bad("static address %v is not a unicast host address", a)
		case a.Is4():
			v4++
		default:
			v6++
		}
	}
	if v4 > 1 || v6 > 1 {
		bad("%d IPv4 and %d IPv6 static addresses; at most one per family", v4, v6)
	}
	if r.IPGroup != "" && (len(r.IPs) > 0 || model.ValidateName("", r.IPGroup) != nil) {
		bad("ip group %q with ips %v", r.IPGroup, r.IPs)
	}
	if !r.MAC.IsZero() && r.MAC[0]&1 != 0 {
		bad("MAC %v is not unicast", r.MAC)
	}
	if !map[string]bool{"": true, "std": true, "control": true, "media": true, "oam": true, "eio": true}[r.Function] {
		bad("function %q", r.Function)
	}
	if !map[string]bool{"": true, "normal": true, "direct": true, "physical": true}[r.NICType] {
		bad("nic type %q", r.NICType)
	}
	if r.CNIArgs != "" && (!json.Valid([]byte(r.CNIArgs)) || r.CNIArgs[0] != '{') {
		bad("cni args %q are not a JSON object", r.CNIArgs)
	}
	return p
}

// listProblems lists the rules a normalized list breaks.
func listProblems(reqs []model.AttachRequest) []string {
	var p []string
	if len(reqs) == 0 || len(reqs) > MaxAttachments {
		p = append(p, fmt.Sprintf("%d requests; want 1-%d", len(reqs), MaxAttachments))
	}
	seen := map[string]bool{}
	routes := 0
	for i, r := range reqs {
		p = append(p, requestProblems(i, r)...)
		if r.Interface == "" || seen[r.Interface] {
			p = append(p, fmt.Sprintf("[%d] interface %q is empty or taken", i, r.Interface))
		}
		seen[r.Interface] = true
		if r.DefaultRoute {
			routes++
		}
	}
	if routes != 1 {
		p = append(p, fmt.Sprintf("%d default routes, want exactly 1", routes))
	}
	return p
}

func checkRequestRules(t *testing.T, i int, r model.AttachRequest) {
	t.Helper()
	for _, p := range requestProblems(i, r) {
		t.Error(p)
	}
}

func checkListRules(t *testing.T, reqs []model.AttachRequest) {
	t.Helper()
	for _, p := range listProblems(reqs) {
		t.Error(p)
	}
}

// checkError fails t unless err is a CodeInvalid *model.Error that names a field of an annotation.
func checkError(t *testing.T, err error, prefixes ...string) {
	t.Helper()
	var e *model.Error
	if !errors.As(err, &e) || e.Code != model.CodeInvalid || e.Message == "" {
		t.Fatalf("err = %#v, want a CodeInvalid *model.Error with a message", err)
	}
	for _, p := range prefixes {
		if strings.HasPrefix(e.Field, p) {
			return
		}
	}
	t.Errorf("field %q starts with none of %q", e.Field, prefixes)
}

// encodeNPWG writes raw requests back in the NPWG JSON form.
func encodeNPWG(t *testing.T, reqs []model.AttachRequest) string {
	type elem struct {
		Name         string          `json:"name"`
		Namespace    string          `json:"namespace,omitempty"`
		Interface    string          `json:"interface,omitempty"`
		IPs          []string        `json:"ips,omitempty"`
		MAC          string          `json:"mac,omitempty"`
		DefaultRoute []string        `json:"default-route,omitempty"`
		CNIArgs      json.RawMessage `json:"cni-args,omitempty"`
	}
	out := make([]elem, len(reqs))
	for i, r := range reqs {
		e := elem{Name: r.Network, Namespace: r.Tenant, Interface: r.Interface}
		for _, a := range r.IPs {
			s := a.String()
			for _, p := range r.IPPrefixes {
				if p.Addr() == a {
					s = p.String() // the prefix the pod wrote is kept
				}
			}
			e.IPs = append(e.IPs, s)
		}
		if !r.MAC.IsZero() {
			e.MAC = r.MAC.String()
		}
		for _, gw := range r.Gateways {
			e.DefaultRoute = append(e.DefaultRoute, gw.String())
		}
		if r.DefaultRoute && len(r.Gateways) == 0 {
			e.DefaultRoute = []string{"192.0.2.1"}
		}
		if r.CNIArgs != "" {
			e.CNIArgs = json.RawMessage(r.CNIArgs)
		}
		out[i] = e
	}
	return marshal(t, out)
}

// encodeCSV writes raw requests in the NPWG comma-separated form, if they fit in it.
func encodeCSV(reqs []model.AttachRequest) (string, bool) {
	var parts []string
	for _, r := range reqs {
		if len(r.IPs) > 0 || !r.MAC.IsZero() || r.DefaultRoute || r.CNIArgs != "" || r.Tenant == "" {
			return "", false
		}
		s := r.Tenant + "/" + r.Network
		if r.Interface != "" {
			s += "@" + r.Interface
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ","), len(parts) > 0
}

// encodeKnitter writes raw requests back in Knitter's annotation form.
func encodeKnitter(t *testing.T, reqs []model.AttachRequest) string {
	type port struct {
		Network    string         `json:"attach_to_network"`
		Attributes map[string]any `json:"attributes,omitempty"`
	}
	ports := make([]port, len(reqs))
	for i, r := range reqs {
		a := map[string]any{}
		set := func(k, v string) {
			if v != "" {
				a[k] = v
			}
		}
		set("nic_name", r.Interface)
		set("function", r.Function)
		set("nic_type", r.NICType)
		set("ip_group_name", r.IPGroup)
		if r.Accelerate {
			a["accelerate"] = "true"
		}
		if len(r.IPs) > 0 {
			a["ip_addr"] = r.IPs[0].String()
		}
		if len(r.Metadata) > 0 {
			a["metadata"] = r.Metadata
		}
		ports[i] = port{Network: r.Network, Attributes: a}
	}
	return marshal(t, map[string]any{"ports": ports})
}

func marshal(t *testing.T, v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep cni-args byte for byte
	if err := enc.Encode(v); err != nil {
		t.Fatalf("encode: %v", err)
	}
	return b.String()
}

// same compares two request lists, treating nil and empty lists alike.
func same(a, b []model.AttachRequest) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func FuzzParseNPWG(f *testing.F) {
	for _, s := range []string{
		"net-a", "net-a, other/net-b@net2", "a,,b", "x/y/z", "a@b@c",
		`[{"name":"a","namespace":"n","interface":"net1","ips":["10.1.1.5/24","fd00::1"],"mac":"02:00:00:00:00:01","default-route":["10.1.1.1"],"cni-args":{"k":"v"}}]`,
		`[{"name":"a","interfce":"x"}]`, `[{"name":"a","name":"b"}]`, `[{"name":"a","org.example.x":1}]`, `{"name":"a"}`,
	} {
		f.Add(s, "pod-ns")
	}
	f.Fuzz(func(t *testing.T, value, ns string) {
		reqs, err := ParseNPWG(value, ns)
		if err != nil {
			if reqs != nil {
				t.Errorf("requests returned with an error")
			}
			checkError(t, err, npwgF, "pod_namespace")
			return
		}
		if len(reqs) > MaxAttachments {
			t.Fatalf("%d requests", len(reqs))
		}
		for i, r := range reqs {
			checkRequestRules(t, i, r)
			if r.Function != "" || r.NICType != "" || r.Accelerate || r.IPGroup != "" || r.Metadata != nil {
				t.Errorf("[%d] NPWG request with Knitter attributes: %+v", i, r)
			}
		}
		if len(reqs) == 0 {
			return
		}
		again, err := ParseNPWG(encodeNPWG(t, reqs), ns)
		if err != nil || !same(again, reqs) {
			t.Fatalf("JSON round trip: %v\n got %+v\nwant %+v", err, again, reqs)
		}
		if csv, ok := encodeCSV(reqs); ok {
			again, err := ParseNPWG(csv, ns)
			if err != nil || !same(again, reqs) {
				t.Fatalf("CSV round trip of %q: %v\n got %+v\nwant %+v", csv, err, again, reqs)
			}
		}
		if _, err := Normalize(reqs, Options{PodNamespace: ns, DefaultNetwork: "def"}, 0); err != nil {
			checkError(t, err, npwgF)
		}
	})
}

func FuzzParseKnitter(f *testing.F) {
	for _, s := range []string{
		`{"ports":[{"attach_to_network":"net_api","attributes":{"nic_name":"eth1","function":"oam","nic_type":"direct","accelerate":"true","ip_addr":"10.1.1.5","combinable":"false","metadata":{"k":"v"}}}]}`,
		`{"ports":[{"attach_to_network":"a","attributes":{"ip_group_name":"g"}},{"attach_to_network":"b"}]}`,
		`{"ports":[]}`, `{}`, `{"ports":[{"attach_to_network":"a","attributes":{"nic_nmae":"x"}}]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		reqs, err := ParseKnitter(value)
		if err != nil {
			if reqs != nil {
				t.Errorf("requests returned with an error")
			}
			checkError(t, err, knitterF)
			return
		}
		if len(reqs) > MaxAttachments {
			t.Fatalf("%d requests", len(reqs))
		}
		for i, r := range reqs {
			checkRequestRules(t, i, r)
			if r.Tenant != "" || r.DefaultRoute || !r.MAC.IsZero() || r.CNIArgs != "" || len(r.IPs) > 1 {
				t.Errorf("[%d] Knitter request with NPWG-only fields: %+v", i, r)
			}
		}
		again, err := ParseKnitter(encodeKnitter(t, reqs))
		if err != nil || !same(again, reqs) {
			t.Fatalf("round trip: %v\n got %+v\nwant %+v", err, again, reqs)
		}
		if _, err := Normalize(reqs, Options{}, len(reqs)); err != nil && len(reqs) > 0 {
			checkError(t, err, knitterF)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add(`{"ports":[{"attach_to_network":"a"},{"attach_to_network":"b","attributes":{"nic_name":"eth0"}}]}`, "net-c,net-d@eth2", "team-1", "def")
	f.Add("", "", "team-1", "")
	f.Add("", `[{"name":"a","default-route":["10.0.0.1"]},{"name":"b","interface":"eth0"}]`, "team-1", "def")
	f.Add("", `[{"name":"a","default-route":["10.0.0.1"]},{"name":"b","default-route":["10.0.0.1"]}]`, "team-1", "def")
	f.Fuzz(func(t *testing.T, knitter, npwg, ns, def string) {
		annos := map[string]string{KnitterAnnotation: knitter, NPWGAnnotation: npwg}
		opts := Options{PodNamespace: ns, DefaultNetwork: def}
		reqs, err := Parse(annos, opts)
		if err != nil {
			if reqs != nil {
				t.Errorf("requests returned with an error")
			}
			checkError(t, err, knitterF, npwgF, "annotations", "default_network", "pod_namespace")
			return
		}
		checkListRules(t, reqs)
		if err := Validate("requests", reqs); err != nil {
			t.Errorf("Validate rejects Parse's result: %v", err)
		}
		again, err := Parse(annos, opts)
		if err != nil || !reflect.DeepEqual(again, reqs) {
			t.Fatalf("second parse differs: %v\n got %+v\nwant %+v", err, again, reqs)
		}
		norm, err := Normalize(reqs, opts, len(reqs))
		if err != nil || !reflect.DeepEqual(norm, reqs) {
			t.Fatalf("normalizing the result again: %v\n got %+v\nwant %+v", err, norm, reqs)
		}
		if strings.TrimSpace(knitter) == "" && strings.TrimSpace(npwg) == "" && (reqs[0].Network != def || reqs[0].Interface != "eth0" || len(reqs) != 1) {
			t.Errorf("no annotation gave %+v, want the default network %q as eth0", reqs, def)
		}
	})
}

// TestRuleCheckersCatchViolations proves the fuzz targets' rule checkers reject what they must.
func TestRuleCheckersCatchViolations(t *testing.T) {
	r := func(network, ifname string, route bool) model.AttachRequest {
		return model.AttachRequest{Network: network, Interface: ifname, DefaultRoute: route}
	}
	withIPs := r("a", "eth0", true)
	withIPs.IPs = addrs("10.0.0.1", "10.0.0.2")
	withMAC := r("a", "eth0", true)
	withMAC.MAC = mac("01:00:00:00:00:01")
	bad := [][]model.AttachRequest{
		nil,
		{r("a", "eth0", false)},
		{r("a", "eth0", true), r("b", "eth0", false)},
		{r("a", "eth0 ", true)},
		{r("a", "", true)},
		{r("A", "eth0", true)},
		{withIPs},
		{withMAC},
		{r("a", "eth0", true), r("b", "eth1", true)},
	}
	for i, reqs := range bad {
		if len(listProblems(reqs)) == 0 {
			t.Errorf("case %d: accepted %+v", i, reqs)
		}
	}
	if p := listProblems([]model.AttachRequest{r("a", "eth0", true), r("b", "net1", false)}); len(p) != 0 {
		t.Errorf("a valid list has problems: %v", p)
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
