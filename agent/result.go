package agent

import (
	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/plan"
)

// resultOf is the CNI result of a plan: each pod interface with its MAC, MTU and sandbox, each
// address with the gateway of its family, the routes, and dns.
func resultOf(p plan.Pod, dns wire.DNS) wire.Result {
	r := wire.Result{Interfaces: []wire.Interface{}, IPs: []wire.IP{}, DNS: dns}
	for i, l := range p.Links {
		r.Interfaces = append(r.Interfaces, wire.Interface{Name: l.PodIf, MAC: l.MAC.String(), MTU: l.MTU, Sandbox: p.Netns})
		for _, a := range l.Addrs {
			ip := wire.IP{Interface: i, Address: a.String()}
			for _, gw := range l.Gateways {
				if gw.Is4() == a.Addr().Is4() {
					ip.Gateway = gw.String()
					break
				}
			}
			r.IPs = append(r.IPs, ip)
		}
		for _, rt := range l.Routes {
			w := wire.Route{Dst: rt.Dst.String()}
			if rt.Gateway.IsValid() {
				w.GW = rt.Gateway.String()
			}
			r.Routes = append(r.Routes, w)
		}
	}
	return r
}
