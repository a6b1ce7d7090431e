package httpapi

import (
	"reflect"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

func TestPodAllocateIdempotent(t *testing.T) {
	f := newFixture(t)
	req := podReq("p1", "acme", "net-a")
	var first, again model.Pod
	f.call(t, f.system, "POST", "/api/v1/pods", req).want(t, 201).decode(t, &first)
	if len(first.Ports) != 1 || len(first.Ports[0].IPs) != 1 || first.Ports[0].State != model.PortAllocated {
		t.Fatalf("allocated %+v", first)
	}
	// The agent retries the monitor's allocation: same answer, 200.
	f.call(t, f.acme, "POST", "/api/v1/pods", req).want(t, 200).decode(t, &again)
	if again.Ports[0].IPs[0] != first.Ports[0].IPs[0] || again.Ports[0].MAC != first.Ports[0].MAC {
		t.Fatalf("retry got %+v, want %+v", again.Ports[0], first.Ports[0])
	}
	other := req
	other.Requests = append([]model.AttachRequest(nil), req.Requests...)
	other.Requests[0].Interface = "net1"
	f.call(t, f.system, "POST", "/api/v1/pods", other).wantErr(t, 409, model.CodeConflict, "pod.uid")
}

func TestPodAllocateErrors(t *testing.T) {
	f := newFixture(t)
	f.call(t, f.admin, "POST", "/api/v1/tenants/acme/networks", `{"name":"tiny","type":"overlay","ipv4":{"cidr":"10.5.0.0/30"}}`).want(t, 201)

	public := podReq("pub", "acme", "shared")
	f.call(t, f.acme, "POST", "/api/v1/pods", public).want(t, 201)

	foreign := podReq("x1", "acme", "net-b")
	foreign.Requests[0].Tenant = "beta"
	f.call(t, f.acme, "POST", "/api/v1/pods", foreign).wantErr(t, 404, model.CodeNotFound, "requests[0].network") // as if it did not exist
	f.call(t, f.acme, "POST", "/api/v1/pods", podReq("x2", "beta", "net-b")).wantErr(t, 403, model.CodeForbidden, "tenant")
	f.call(t, f.acme, "POST", "/api/v1/pods", podReq("x3", "acme", "nope")).wantErr(t, 404, model.CodeNotFound, "requests[0].network")
	f.call(t, f.admin, "POST", "/api/v1/pods", podReq("x4", "nope", "net-a")).wantErr(t, 404, model.CodeNotFound, "tenant")
	f.call(t, f.acme, "POST", "/api/v1/pods", podReq("", "acme", "net-a")).wantErr(t, 400, model.CodeInvalid, "pod.uid")
	bad := podReq("x5", "acme", "net-a")
	bad.Requests[0].Interface = "eth/0"
	f.call(t, f.acme, "POST", "/api/v1/pods", bad).wantErr(t, 400, model.CodeInvalid, "requests[0].interface")
	f.call(t, f.acme, "POST", "/api/v1/pods", `{"pod":{"uid":"x6"},"tenant":"acme","requests":[{"network":"net-a","interface":"eth0","ips":["10.1.0.999"]}]}`).
		wantErr(t, 400, model.CodeInvalid, "requests[0].ips[0]")
	f.call(t, f.acme, "POST", "/api/v1/pods", `{"pod":{"uid":"x6"},"tenant":"acme","requets":[]}`).wantErr(t, 400, model.CodeInvalid, "requets")

	// A /30 without a gateway has two addresses.
	for _, uid := range []string{"t1", "t2"} {
		f.call(t, f.acme, "POST", "/api/v1/pods", podReq(uid, "acme", "tiny")).want(t, 201)
	}
	f.call(t, f.acme, "POST", "/api/v1/pods", podReq("t3", "acme", "tiny")).wantErr(t, 409, model.CodeExhausted, "requests[0].network")

	f.call(t, f.admin, "PUT", "/api/v1/tenants/acme", `{"quota":{"ports":3}}`).want(t, 200)
	f.call(t, f.acme, "POST", "/api/v1/pods", podReq("q1", "acme", "net-a")).wantErr(t, 409, model.CodeQuota, "requests")
}

func TestPodGetBindRelease(t *testing.T) {
	f := newFixture(t)
	f.call(t, f.acme, "POST", "/api/v1/pods", podReq("p1", "acme", "net-a")).want(t, 201)
	var pod model.Pod
	f.call(t, f.acme, "GET", "/api/v1/pods/p1", nil).want(t, 200).decode(t, &pod)
	if pod.UID != "p1" || pod.Tenant != "acme" {
		t.Fatalf("got %+v", pod)
	}
	// Another tenant's pod is a missing pod for the caller, on every route that names it by UID.
	f.call(t, f.beta, "GET", "/api/v1/pods/p1", nil).wantErr(t, 404, model.CodeNotFound, "uid")
	f.call(t, f.acme, "GET", "/api/v1/pods/nope", nil).wantErr(t, 404, model.CodeNotFound, "uid")

	f.call(t, f.system, "PUT", "/api/v1/nodes/n1", `{"vtep":"192.168.0.1"}`).want(t, 200)
	f.call(t, f.system, "PUT", "/api/v1/nodes/n2", `{"vtep":"192.168.0.2"}`).want(t, 200)
	f.call(t, f.beta, "POST", "/api/v1/pods/p1/bind", `{"node":"n1"}`).wantErr(t, 404, model.CodeNotFound, "pod.uid")
	f.call(t, f.system, "POST", "/api/v1/pods/p1/bind", `{"node":"n9"}`).wantErr(t, 404, model.CodeNotFound, "node")
	f.call(t, f.system, "POST", "/api/v1/pods/nope/bind", `{"node":"n1"}`).wantErr(t, 404, model.CodeNotFound, "pod.uid")
	f.call(t, f.system, "POST", "/api/v1/pods/p1/bind", `{"nodes":"n1"}`).wantErr(t, 400, model.CodeInvalid, "nodes")
	f.call(t, f.system, "POST", "/api/v1/pods/p1/bind", `{"node":"n1"}`).want(t, 200).decode(t, &pod)
	if pod.Node != "n1" || pod.Ports[0].State != model.PortBound || pod.Ports[0].Node != "n1" {
		t.Fatalf("bound %+v", pod)
	}
	f.call(t, f.system, "POST", "/api/v1/pods/p1/bind", `{"node":"n1"}`).want(t, 200)
	f.call(t, f.system, "POST", "/api/v1/pods/p1/bind", `{"node":"n2"}`).wantErr(t, 409, model.CodeConflict, "node")

	f.call(t, f.beta, "DELETE", "/api/v1/pods/p1", nil).want(t, 204)
	f.call(t, f.acme, "GET", "/api/v1/pods/p1", nil).want(t, 200) // beta's DELETE released nothing
	f.call(t, f.acme, "DELETE", "/api/v1/pods/p1", nil).want(t, 204)
	f.call(t, f.acme, "DELETE", "/api/v1/pods/p1", nil).want(t, 204)
	f.call(t, f.acme, "GET", "/api/v1/pods/p1", nil).wantErr(t, 404, model.CodeNotFound, "uid")
}

// Bind with ?include=networks answers with the pod and the networks of its ports, each once in port
// order (a public network of another tenant too), as GET of each network has them; any other value
// of include is refused before anything is bound.
func TestBindIncludesNetworks(t *testing.T) {
	f := newFixture(t)
	req := podReq("p1", "acme", "net-a")
	req.Requests = append(req.Requests, model.AttachRequest{Network: "shared", Interface: "net1"},
		model.AttachRequest{Network: "net-a", Interface: "net2"})
	f.call(t, f.acme, "POST", "/api/v1/pods", req).want(t, 201)
	f.call(t, f.system, "PUT", "/api/v1/nodes/n1", `{"vtep":"192.168.0.1"}`).want(t, 200)

	f.call(t, f.system, "POST", "/api/v1/pods/p1/bind?include=ports", `{"node":"n1"}`).wantErr(t, 400, model.CodeInvalid, "include")
	f.call(t, f.system, "POST", "/api/v1/pods/p1/bind?includes=networks", `{"node":"n1"}`).wantErr(t, 400, model.CodeInvalid, "includes")
	var pod model.Pod
	f.call(t, f.acme, "GET", "/api/v1/pods/p1", nil).want(t, 200).decode(t, &pod)
	if pod.Node != "" {
		t.Fatalf("a refused bind bound the pod to %q", pod.Node)
	}

	var bound BoundPod
	f.call(t, f.system, "POST", "/api/v1/pods/p1/bind?include=networks", `{"node":"n1"}`).want(t, 200).decode(t, &bound)
	if bound.Node != "n1" || len(bound.Ports) != 3 || bound.Ports[0].State != model.PortBound {
		t.Fatalf("bound %+v", bound.Pod)
	}
	var keys []string
	for _, n := range bound.Networks {
		keys = append(keys, n.Key())
		var got NetworkInfo
		f.call(t, f.admin, "GET", "/api/v1/tenants/"+n.Tenant+"/networks/"+n.Name, nil).want(t, 200).decode(t, &got)
		if !reflect.DeepEqual(got.Network, n) {
			t.Fatalf("network %s in the bind answer = %+v, GET has %+v", n.Key(), n, got.Network)
		}
	}
	if want := []string{bound.Ports[0].Network, bound.Ports[1].Network}; !reflect.DeepEqual(keys, want) || keys[0] == keys[1] {
		t.Fatalf("networks %v, want %v", keys, want)
	}

	// Without include the answer is the pod as before, with no networks.
	raw := f.call(t, f.system, "POST", "/api/v1/pods/p1/bind", `{"node":"n1"}`).want(t, 200)
	var plain map[string]any
	raw.decode(t, &plain)
	if _, ok := plain["networks"]; ok || plain["node"] != "n1" {
		t.Fatalf("plain bind answered %v", plain)
	}
}
