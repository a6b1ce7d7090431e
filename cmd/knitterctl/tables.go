package main

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/model"
)

// The tables of `get`. Each is a pure function of the objects, so tests compare them with golden
// text.

func tenantTable(ts []httpapi.TenantInfo) *table {
	t := &table{header: []string{"NAME", "ADMIN", "DEFAULT-NETWORK", "NETWORKS", "PORTS"}, none: "No tenants found."}
	for _, x := range ts {
		t.add(x.Name, yesNo(x.Admin), x.DefaultNetwork, usedOf(x.Usage.Networks, x.Quota.Networks), usedOf(x.Usage.Ports, x.Quota.Ports))
	}
	return t
}

// usedOf prints usage against a quota: "3/10", or "3" without a quota.
func usedOf(used, quota int) string {
	if quota == 0 {
		return strconv.Itoa(used)
	}
	return fmt.Sprintf("%d/%d", used, quota)
}

func networkTable(ns []model.Network) *table {
	t := &table{header: []string{"TENANT", "NAME", "TYPE", "SEGMENT", "IPV4", "IPV6", "MTU", "PUBLIC"}, none: "No networks found."}
	for _, n := range ns {
		t.add(n.Tenant, n.Name, string(n.Type), segment(n), cidrOf(n.IPv4), cidrOf(n.IPv6), mtuOf(n.MTU, ""), yesNo(n.Public))
	}
	return t
}

// segment says where a network's traffic goes: "vni 4097", "vlan 100 on eth1", "eth2".
func segment(n model.Network) string {
	var parts []string
	if n.VNI != 0 {
		parts = append(parts, fmt.Sprintf("vni %d", n.VNI))
	}
	if n.VLAN != 0 {
		parts = append(parts, fmt.Sprintf("vlan %d", n.VLAN))
	}
	if n.PhysicalNetwork != "" {
		if len(parts) > 0 {
			parts = append(parts, "on")
		}
		parts = append(parts, n.PhysicalNetwork)
	}
	return strings.Join(parts, " ")
}

func cidrOf(s *model.Subnet) string {
	if s == nil {
		return ""
	}
	return s.CIDR.String()
}

func mtuOf(mtu int, zero string) string {
	if mtu == 0 {
		return zero
	}
	return strconv.Itoa(mtu)
}

func ipgroupTable(gs []model.IPGroup) *table {
	t := &table{header: []string{"TENANT", "NAME", "NETWORK", "SIZE", "IPS"}, none: "No IP groups found."}
	for _, g := range gs {
		t.add(g.Tenant, g.Name, g.Network, strconv.Itoa(len(g.IPs)), ipsBrief(g.IPs, 4))
	}
	return t
}

// ipsBrief joins up to limit addresses: "10.1.0.1,10.1.0.2,+3 more".
func ipsBrief(ips []netip.Addr, limit int) string {
	var b []string
	for i, ip := range ips {
		if i == limit {
			b = append(b, fmt.Sprintf("+%d more", len(ips)-limit))
			break
		}
		b = append(b, ip.String())
	}
	return strings.Join(b, ",")
}

func ipsOf(ips []netip.Addr) string { return ipsBrief(ips, len(ips)) }

func podTable(ps []podSummary) *table {
	t := &table{header: []string{"UID", "NAMESPACE", "NAME", "TENANT", "NODE", "INTERFACES"}, none: "No pods found."}
	for _, p := range ps {
		var ifs []string
		for _, port := range p.Ports {
			ifs = append(ifs, port.Interface+"="+ipsOf(port.IPs))
		}
		t.add(p.UID, p.Namespace, p.Name, p.Tenant, p.Node, strings.Join(ifs, " "))
	}
	return t
}

func portTable(ps []model.Port) *table {
	t := &table{header: []string{"POD-UID", "INTERFACE", "POD", "NETWORK", "IPS", "MAC", "NODE", "STATE"}, none: "No ports found."}
	for _, p := range ps {
		iface := p.Interface
		if p.DefaultRoute {
			iface += "*"
		}
		t.add(p.Pod.UID, iface, p.Pod.Namespace+"/"+p.Pod.Name, p.Network, ipsOf(p.IPs), macOf(p.MAC), p.Node, string(p.State))
	}
	return t
}

func macOf(m model.MAC) string {
	if m.IsZero() {
		return ""
	}
	return m.String()
}

func nodeTable(ns []model.Node) *table {
	t := &table{header: []string{"NAME", "VTEP", "HEARTBEAT"}, none: "No nodes found."}
	for _, n := range ns {
		vtep := ""
		if n.VTEP.IsValid() {
			vtep = n.VTEP.String()
		}
		t.add(n.Name, vtep, timeOf(n.Heartbeat))
	}
	return t
}

func tokenTable(ts []httpapi.TokenInfo) *table {
	t := &table{header: []string{"ID", "ROLE", "TENANT", "CREATED"}, none: "No tokens found."}
	for _, x := range ts {
		t.add(x.ID, string(x.Role), x.Tenant, timeOf(x.Created))
	}
	return t
}

// timeOf prints a model time in UTC, to the second; "" for never.
func timeOf(t model.Time) string {
	if t == 0 {
		return ""
	}
	return time.UnixMilli(int64(t)).UTC().Format(time.RFC3339)
}
