package main

import (
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/model"
)

// The describe views: every field of one object, in words, for people. Like the tables they are
// pure functions of what the API answered.

func describeTenant(w io.Writer, t httpapi.TenantInfo) error {
	d := newDetails(w)
	d.line(0, "Name", t.Name)
	d.line(0, "Admin", yesNo(t.Admin))
	d.line(0, "Default network", orText(t.DefaultNetwork, "none (pods that ask for nothing get no Knitter interface)"))
	d.section(0, "Usage")
	d.line(1, "Networks", quotaText(t.Usage.Networks, t.Quota.Networks))
	d.line(1, "Ports", quotaText(t.Usage.Ports, t.Quota.Ports))
	return d.flush()
}

// quotaText says "3 of 10 (quota)" or "3 (no quota)".
func quotaText(used, quota int) string {
	if quota == 0 {
		return fmt.Sprintf("%d (no quota)", used)
	}
	return fmt.Sprintf("%d of %d (quota)", used, quota)
}

func orText(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

func describeNetwork(w io.Writer, n httpapi.NetworkInfo) error {
	d := newDetails(w)
	d.line(0, "Name", n.Key())
	d.line(0, "Type", n.Type)
	switch {
	case n.VNI != 0:
		d.line(0, "VNI", n.VNI)
	case n.Type == model.Overlay:
		d.line(0, "VNI", "not assigned")
	}
	if n.VLAN != 0 {
		d.line(0, "VLAN", n.VLAN)
	}
	if n.PhysicalNetwork != "" {
		d.line(0, "Physical network", n.PhysicalNetwork)
	}
	d.line(0, "MTU", mtuOf(n.MTU, "node default"))
	d.line(0, "Public", yesNo(n.Public))
	var stats httpapi.NetworkStats
	if n.Stats != nil {
		stats = *n.Stats
	}
	describeSubnet(d, "IPv4", n.IPv4, stats.IPv4)
	describeSubnet(d, "IPv6", n.IPv6, stats.IPv6)
	return d.flush()
}

func describeSubnet(d *details, family string, s *model.Subnet, pool *httpapi.PoolStats) {
	if s == nil {
		return
	}
	d.section(0, family)
	d.line(1, "CIDR", s.CIDR)
	gw := "none"
	if s.Gateway.IsValid() {
		gw = s.Gateway.String()
	}
	d.line(1, "Gateway", gw)
	d.line(1, "Ranges", rangesText(s.Ranges, "the whole subnet"))
	d.line(1, "Exclude", rangesText(s.Exclude, "none"))
	routes := make([]string, 0, len(s.Routes))
	for _, r := range s.Routes {
		via := "the gateway"
		switch {
		case r.Gateway.IsValid():
			via = r.Gateway.String()
		case !s.Gateway.IsValid():
			via = "on-link"
		}
		routes = append(routes, r.Dst.String()+" via "+via)
	}
	d.line(1, "Routes", orText(strings.Join(routes, ", "), "none"))
	if pool != nil {
		d.line(1, "Pool", poolText(*pool))
	}
}

func rangesText(rs []model.Range, none string) string {
	var b []string
	for _, r := range rs {
		if r.Start == r.End {
			b = append(b, r.Start.String())
		} else {
			b = append(b, r.String())
		}
	}
	return orText(strings.Join(b, ", "), none)
}

// poolText says how much of a subnet is taken: "2 used, 1 cooling, 0 held, 250 free of 253 (1.2% taken)".
func poolText(p httpapi.PoolStats) string {
	taken := p.Used + p.Cooling + p.Held
	free := uint64(0)
	if p.Capacity > taken {
		free = p.Capacity - taken
	}
	pct := 0.0
	if p.Capacity > 0 {
		pct = 100 * float64(taken) / float64(p.Capacity)
	}
	return fmt.Sprintf("%d used, %d cooling, %d held, %s free of %s (%.1f%% taken)", p.Used, p.Cooling, p.Held, count(free), count(p.Capacity), pct)
}

// count prints a number of addresses exactly, or roughly when it has more digits than anyone reads
// (an IPv6 /64 holds 2^64-2).
func count(n uint64) string {
	if n < 1e12 {
		return strconv.FormatUint(n, 10)
	}
	return fmt.Sprintf("~%.3g", float64(n))
}

func describeIPGroup(w io.Writer, g model.IPGroup, ports []model.Port) error {
	users := map[netip.Addr]model.Port{}
	for _, p := range ports {
		if p.IPGroup == g.Name {
			for _, ip := range p.IPs {
				users[ip] = p
			}
		}
	}
	d := newDetails(w)
	d.line(0, "Name", g.Key())
	d.line(0, "Network", g.Tenant+"/"+g.Network)
	d.line(0, "Size", fmt.Sprintf("%d (%d in use)", len(g.IPs), len(users)))
	t := &table{header: []string{"IP", "USED-BY"}}
	for _, ip := range g.IPs {
		by := "free"
		if p, ok := users[ip]; ok {
			by = fmt.Sprintf("%s/%s %s (port %s)", p.Pod.Namespace, p.Pod.Name, p.Interface, p.ID)
		}
		t.add(ip.String(), by)
	}
	d.section(0, "Addresses")
	if err := d.table(1, t, "none"); err != nil {
		return err
	}
	return d.flush()
}

func describePod(w io.Writer, p model.Pod) error {
	d := newDetails(w)
	d.line(0, "UID", p.UID)
	d.line(0, "Pod", p.Namespace+"/"+p.Name)
	d.line(0, "Tenant", p.Tenant)
	d.line(0, "Owner", orText(p.Owner, "none (not sticky)"))
	d.line(0, "Node", orText(p.Node, "none (not bound yet)"))
	d.line(0, "Created", orText(timeOf(p.Created), "unknown"))
	t := &table{header: []string{"INTERFACE", "NETWORK", "IPS", "MAC", "IP-GROUP", "DEFAULT-ROUTE", "STATE"}}
	for _, port := range p.Ports {
		t.add(port.Interface, port.Network, ipsOf(port.IPs), macOf(port.MAC), port.IPGroup, yesNo(port.DefaultRoute), string(port.State))
	}
	d.section(0, "Ports")
	if err := d.table(1, t, "none"); err != nil {
		return err
	}
	return d.flush()
}

func describePort(w io.Writer, p model.Port) error {
	d := newDetails(w)
	d.line(0, "ID", p.ID)
	d.line(0, "Pod", fmt.Sprintf("%s/%s (uid %s)", p.Pod.Namespace, p.Pod.Name, p.Pod.UID))
	d.line(0, "Tenant", p.Tenant)
	d.line(0, "Network", p.Network)
	d.line(0, "Interface", p.Interface)
	d.line(0, "IPs", orText(ipsOf(p.IPs), "none"))
	d.line(0, "MAC", orText(macOf(p.MAC), "none"))
	d.line(0, "IP group", orText(p.IPGroup, "none"))
	d.line(0, "Default route", yesNo(p.DefaultRoute))
	d.line(0, "Node", orText(p.Node, "none (not bound yet)"))
	d.line(0, "State", p.State)
	if p.Function != "" || p.NICType != "" {
		d.line(0, "Function", orText(p.Function, "none"))
		d.line(0, "NIC type", orText(p.NICType, "none"))
	}
	return d.flush()
}

func describeNode(w io.Writer, n model.Node, ports []model.Port) error {
	d := newDetails(w)
	d.line(0, "Name", n.Name)
	vtep := "none"
	if n.VTEP.IsValid() {
		vtep = n.VTEP.String()
	}
	d.line(0, "VTEP", vtep)
	d.line(0, "Heartbeat", orText(timeOf(n.Heartbeat), "never"))
	t := &table{header: []string{"POD-UID", "INTERFACE", "POD", "NETWORK", "IPS", "STATE"}}
	for _, p := range ports {
		t.add(p.Pod.UID, p.Interface, p.Pod.Namespace+"/"+p.Pod.Name, p.Network, ipsOf(p.IPs), string(p.State))
	}
	d.section(0, fmt.Sprintf("Ports (%d)", len(ports)))
	if err := d.table(1, t, "none"); err != nil {
		return err
	}
	return d.flush()
}

func describeToken(w io.Writer, t httpapi.TokenInfo) error {
	d := newDetails(w)
	d.line(0, "ID", t.ID)
	d.line(0, "Role", t.Role)
	if t.Role == model.RoleTenant {
		d.line(0, "Tenant", t.Tenant)
	}
	d.line(0, "Created", orText(timeOf(t.Created), "unknown"))
	d.line(0, "Secret", "not shown: the manager keeps only its hash")
	return d.flush()
}
