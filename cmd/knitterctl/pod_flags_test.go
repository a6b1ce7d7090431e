package main

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"testing"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

func TestPodRequestFromFlags(t *testing.T) {
	a := netip.MustParseAddr
	mac, _ := model.ParseMAC("02:00:00:00:00:05")
	req, err := podRequest("u1", "demo", "web-0", "statefulset/demo/web/0", "", []string{
		"net_a",
		"admin/shared@net1,ip=10.100.0.50,ip=fd00::50,default-route",
		"net_b,mac=02:00:00:00:00:05,ip-group=frontends",
		"net_c@eth0",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := alloc.PodRequest{
		Pod: model.PodRef{UID: "u1", Namespace: "demo", Name: "web-0"}, Tenant: "demo", Owner: "statefulset/demo/web/0",
		Requests: []model.AttachRequest{
			// eth0 is taken by net_c, so the first unnamed request gets the first free netN.
			{Network: "net_a", Interface: "net2"},
			{Network: "shared", Tenant: "admin", Interface: "net1", IPs: []netip.Addr{a("10.100.0.50"), a("fd00::50")}, DefaultRoute: true},
			{Network: "net_b", Interface: "net3", MAC: mac, IPGroup: "frontends"},
			{Network: "net_c", Interface: "eth0"},
		},
	}
	if !reflect.DeepEqual(req, want) {
		g, _ := json.Marshal(req)
		w, _ := json.Marshal(want)
		t.Fatalf("request\n got %s\nwant %s", g, w)
	}
}

func TestPodRequestDefaults(t *testing.T) {
	// The first interface is eth0, the next net1; the namespace is the tenant; the name the UID.
	req, err := podRequest("u2", "", "", "", "acme", []string{"n1", "n2"})
	if err != nil {
		t.Fatal(err)
	}
	if req.Pod != (model.PodRef{UID: "u2", Namespace: "acme", Name: "u2"}) || req.Tenant != "acme" {
		t.Fatalf("pod %+v tenant %q", req.Pod, req.Tenant)
	}
	if req.Requests[0].Interface != "eth0" || req.Requests[1].Interface != "net1" {
		t.Fatalf("interfaces %q %q, want eth0 net1", req.Requests[0].Interface, req.Requests[1].Interface)
	}
	// --tenant overrides the namespace as the pod's tenant.
	req, err = podRequest("u3", "kube-ns", "", "", "acme", nil)
	if err != nil || req.Tenant != "acme" || req.Pod.Namespace != "kube-ns" || len(req.Requests) != 0 {
		t.Fatalf("got %+v, %v", req, err)
	}
}

func TestPodRequestErrors(t *testing.T) {
	for _, tc := range []struct {
		uid, ns, tenant string
		networks        []string
		field, want     string
	}{
		{"", "demo", "", nil, "--uid", "is missing"},
		{"u", "", "", nil, "--namespace", "is missing"},
		{"u", "demo", "", []string{"Net1"}, "--network", "upper-case"},
		{"u", "demo", "", []string{"Acme/net1"}, "--network", "upper-case"},
		{"u", "demo", "", []string{"net1,ip=10.1.0.300"}, "--network", `ip="10.1.0.300" is not an IP address`},
		{"u", "demo", "", []string{"net1,mac=zz"}, "--network", "not a 48-bit MAC"},
		{"u", "demo", "", []string{"net1,color=red"}, "--network", `unknown option "color"`},
	} {
		_, err := podRequest(tc.uid, tc.ns, "", "", tc.tenant, tc.networks)
		checkInvalid(t, err, tc.field, tc.want)
	}
}

func TestParseIPsExpandsRanges(t *testing.T) {
	ips, err := parseIPs("--ip", []string{"10.1.0.9", "10.1.0.254-10.1.1.1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := ipsOf(ips); got != "10.1.0.9,10.1.0.254,10.1.0.255,10.1.1.0,10.1.1.1" {
		t.Fatalf("got %s", got)
	}
	_, err = parseIPs("--ip", []string{"10.0.0.0-10.0.255.255"})
	checkInvalid(t, err, "--ip", "more than 4096")
	_, err = parseIPs("--add-ip", []string{"nope"})
	checkInvalid(t, err, "--add-ip", "not an address")
}

func TestEditIPs(t *testing.T) {
	ips, _ := parseIPs("", []string{"10.1.0.1-10.1.0.3"})
	g := model.IPGroup{Tenant: "demo", Name: "g", Network: "n", IPs: ips, Size: 3}
	got, err := editIPs(g, nil, []string{"10.1.0.9"}, []string{"10.1.0.2"}, false)
	if err != nil || ipsOf(got.IPs) != "10.1.0.1,10.1.0.3,10.1.0.9" || got.Size != 0 {
		t.Fatalf("add+remove: %v %v size %d", ipsOf(got.IPs), err, got.Size)
	}
	if ipsOf(g.IPs) != "10.1.0.1,10.1.0.2,10.1.0.3" {
		t.Fatalf("editIPs changed its input: %s", ipsOf(g.IPs))
	}
	got, err = editIPs(g, []string{"10.1.0.7-10.1.0.8"}, nil, nil, true)
	if err != nil || ipsOf(got.IPs) != "10.1.0.7,10.1.0.8" {
		t.Fatalf("replace: %v %v", ipsOf(got.IPs), err)
	}
	_, err = editIPs(g, nil, []string{"10.1.0.1"}, nil, false)
	checkInvalid(t, err, "--add-ip", "already in group demo/g")
	_, err = editIPs(g, nil, nil, []string{"10.1.0.5"}, false)
	checkInvalid(t, err, "--remove-ip", "not in group")
	_, err = editIPs(g, nil, nil, []string{"10.1.0.1-10.1.0.3"}, false)
	checkInvalid(t, err, "--remove-ip", "empty")
}
