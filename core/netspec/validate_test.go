package netspec

import (
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

func TestValidate(t *testing.T) {
	r := func(network, ifname string, route bool) model.AttachRequest {
		return model.AttachRequest{Network: network, Interface: ifname, DefaultRoute: route}
	}
	for _, ok := range [][]model.AttachRequest{
		nil,
		{r("a", "eth0", true)},
		{r("a", "eth0", false), r("b", "net1", true), {Network: "c", Tenant: "t", Interface: "x", IPs: addrs("10.0.0.5", "fd00::5"), MAC: mac("02:00:00:00:00:01")}},
	} {
		if err := Validate("requests", ok); err != nil {
			t.Errorf("Validate(%+v): %v", ok, err)
		}
	}
	many := make([]model.AttachRequest, MaxAttachments+1)
	for i := range many {
		many[i] = r("a", "x", false)
	}
	tests := []struct {
		name  string
		reqs  []model.AttachRequest
		field string
		fix   string
	}{
		{"too many", many, "requests[32]", "at most 32 interfaces"},
		{"unnamed", []model.AttachRequest{r("a", "eth0", true), r("b", "", false)}, "requests[1].interface", "name every interface"},
		{"duplicate", []model.AttachRequest{r("a", "eth0", true), r("b", "eth0", false)}, "requests[1].interface", "is also the interface of requests[0]"},
		{"two routes", []model.AttachRequest{r("a", "eth0", true), r("b", "net1", true)}, "requests[1].default_route", "and so is requests[0].default_route"},
		{"no route", []model.AttachRequest{r("a", "eth0", false)}, "requests", "set it on exactly one"},
		{"bad network", []model.AttachRequest{r("A", "eth0", true)}, "requests[0].network", `use "a"`},
		{"bad interface", []model.AttachRequest{r("a", "eth 0", true)}, "requests[0].interface", "has a space"},
		{"bad ips", []model.AttachRequest{{Network: "a", Interface: "eth0", DefaultRoute: true, IPs: addrs("10.0.0.1", "10.0.0.2")}}, "requests[0].ips[1]", "at most one address per family"},
		{"bad cni args", []model.AttachRequest{{Network: "a", Interface: "eth0", DefaultRoute: true, CNIArgs: "1"}}, "requests[0].cni_args", "must be a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkInvalid(t, Validate("requests", tt.reqs), tt.field, tt.fix)
		})
	}
	// The messages must not point REST clients at annotations they did not send.
	if err := Validate("requests", []model.AttachRequest{r("A", "eth0", true)}); strings.Contains(err.Error(), "annotations") {
		t.Errorf("error mentions annotations: %v", err)
	}
}
