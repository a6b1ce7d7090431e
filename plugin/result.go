package plugin

import (
	"net"

	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"

	"github.com/knitter-cni/knitter/agent/wire"
)

// toCNI converts the agent's result into a CNI 1.1 result. The agent formats every address itself,
// so a value that does not parse is dropped rather than guessed at.
func toCNI(r *wire.Result) *types100.Result {
	out := &types100.Result{CNIVersion: types100.ImplementedSpecVersion}
	for _, i := range r.Interfaces {
		out.Interfaces = append(out.Interfaces, &types100.Interface{Name: i.Name, Mac: i.MAC, Mtu: i.MTU, Sandbox: i.Sandbox})
	}
	for _, ip := range r.IPs {
		addr, ok := parseAddr(ip.Address)
		if !ok {
			continue
		}
		out.IPs = append(out.IPs, &types100.IPConfig{Interface: types100.Int(ip.Interface), Address: addr, Gateway: net.ParseIP(ip.Gateway)})
	}
	for _, rt := range r.Routes {
		_, dst, err := net.ParseCIDR(rt.Dst)
		if err != nil {
			continue
		}
		out.Routes = append(out.Routes, &types.Route{Dst: *dst, GW: net.ParseIP(rt.GW)})
	}
	out.DNS = types.DNS{Nameservers: r.DNS.Nameservers, Domain: r.DNS.Domain, Search: r.DNS.Search, Options: r.DNS.Options}
	return out
}

// parseAddr parses "10.1.0.5/24" keeping the host address (net.ParseCIDR gives the network's).
func parseAddr(s string) (net.IPNet, bool) {
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		return net.IPNet{}, false
	}
	if v4 := ip.To4(); v4 != nil {
		ip = v4
	}
	return net.IPNet{IP: ip, Mask: n.Mask}, true
}
