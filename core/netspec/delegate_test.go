package netspec

import (
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

func TestDelegatePort(t *testing.T) {
	pod := func(ports ...string) model.Pod {
		p := model.Pod{PodRef: model.PodRef{Namespace: "demo", Name: "web"}}
		for _, s := range ports {
			itf, network, _ := strings.Cut(s, "=")
			p.Ports = append(p.Ports, model.Port{ID: "p-" + itf, Interface: itf, Network: network})
		}
		return p
	}
	// The annotation "shared, demo-macvlan" names nothing: net1=shared, net2=demo-macvlan by position.
	byPosition := pod("eth0=demo/pods", "net1=admin/shared", "net2=demo/demo-macvlan")
	for _, c := range []struct {
		name       string
		pod        model.Pod
		annotation string
		ifName     string
		network    string
		wantPort   string // the port's ID, or "" for an error
		err        string
	}{
		{"same position", byPosition, "shared, demo-macvlan", "net2", "demo/demo-macvlan", "p-net2", ""},
		{"the delegate's network decides", byPosition, "shared, demo-macvlan", "net1", "demo/demo-macvlan", "p-net2", ""},
		{"and the other way round", byPosition, "shared, demo-macvlan", "net2", "admin/shared", "p-net1", ""},
		{"an interface with no port yet", byPosition, "shared, demo-macvlan", "net7", "admin/shared", "p-net1", ""},
		{"an explicit name on another network", byPosition, "shared@net1, demo-macvlan", "net1", "demo/demo-macvlan", "", "puts interface net1 on network admin/shared"},
		{"an explicit name for the network elsewhere", byPosition, "shared, demo-macvlan@net2", "net1", "demo/demo-macvlan", "", "puts network demo/demo-macvlan on interface net2"},
		{"not asked for", byPosition, "shared", "net3", "demo/other", "", "no port on network demo/other"},
		{"twice, unnamed", pod("eth0=demo/pods", "net1=demo/a", "net2=demo/a"), "a, a", "net5", "demo/a", "", "2 ports on network demo/a"},
	} {
		named, err := Named(map[string]string{NPWGAnnotation: c.annotation}, "demo")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, err := DelegatePort(c.pod, named, c.ifName, c.network)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %+v, %v; want an error with %q", c.name, got, err, c.err)
			}
			continue
		}
		if err != nil || got.ID != c.wantPort || got.Interface != c.ifName {
			t.Errorf("%s: %+v, %v; want port %s as %s", c.name, got, err, c.wantPort, c.ifName)
		}
	}
	if _, err := Named(map[string]string{NPWGAnnotation: "[{"}, "demo"); err == nil {
		t.Error("a broken annotation gave no error")
	}
}
