package alloc

import (
	"fmt"
	"strings"

	"github.com/knitter-cni/knitter/core/ipam"
	"github.com/knitter-cni/knitter/core/model"
)

// Describe prints the whole state as stable text: the same state always prints the same bytes. Scenario
// tests compare it with golden files, and the simulator prints it when an invariant breaks.
func (s *State) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "now %d\n", s.now)
	for _, name := range sortedKeys(s.tenants) {
		t := s.tenants[name]
		fmt.Fprintf(&b, "tenant %s networks=%d ports=%d", name, t.networks, t.ports)
		if t.Admin {
			b.WriteString(" admin")
		}
		if t.Quota.Networks > 0 || t.Quota.Ports > 0 {
			fmt.Fprintf(&b, " quota=%d/%d", t.Quota.Networks, t.Quota.Ports)
		}
		if t.DefaultNetwork != "" {
			fmt.Fprintf(&b, " default=%s", t.DefaultNetwork)
		}
		if len(t.PhysicalNetworks) > 0 {
			fmt.Fprintf(&b, " physical=%s", strings.Join(t.PhysicalNetworks, ","))
		}
		b.WriteByte('\n')
	}
	for _, key := range sortedKeys(s.networks) {
		describeNetwork(&b, s.networks[key])
	}
	for _, phys := range sortedKeys(s.macSpaces) {
		sp := s.macSpaces[phys]
		fmt.Fprintf(&b, "physical %s networks=%d macs=%d\n", phys, sp.networks, sp.pool.Len())
	}
	for _, key := range sortedKeys(s.groups) {
		g := s.groups[key]
		fmt.Fprintf(&b, "ipgroup %s network=%s", key, g.Network)
		for _, ip := range g.IPs {
			fmt.Fprintf(&b, " %s", ip)
			if user, ok := g.users[ip]; ok {
				fmt.Fprintf(&b, "(%s)", user)
			}
		}
		b.WriteByte('\n')
	}
	for _, name := range s.nodeNames {
		n := s.nodes[name]
		vtep := "-"
		if n.VTEP.IsValid() {
			vtep = n.VTEP.String()
		}
		fmt.Fprintf(&b, "node %s vtep=%s heartbeat=%d\n", name, vtep, n.Heartbeat)
	}
	for _, uid := range sortedKeys(s.pods) {
		describePod(&b, s.pods[uid])
	}
	for _, key := range sortedKeys(s.holds) {
		h := s.holds[key]
		fmt.Fprintf(&b, "hold %s network=%s ips=%s mac=%s until=%d\n", key, h.Network, joinAddrs(h.IPs), h.MAC, h.Until)
	}
	for _, id := range sortedKeys(s.tokens) {
		t := s.tokens[id]
		fmt.Fprintf(&b, "token %s role=%s", id, t.Role)
		if t.Tenant != "" {
			fmt.Fprintf(&b, " tenant=%s", t.Tenant)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func describeNetwork(b *strings.Builder, nw *network) {
	fmt.Fprintf(b, "network %s type=%s", nw.Key(), nw.Type)
	switch {
	case nw.Type == model.Overlay:
		fmt.Fprintf(b, " vni=%d", nw.VNI)
	case nw.VLAN != 0:
		fmt.Fprintf(b, " vlan=%d", nw.VLAN)
	}
	if nw.PhysicalNetwork != "" {
		fmt.Fprintf(b, " phys=%s", nw.PhysicalNetwork)
	}
	if nw.MTU != 0 {
		fmt.Fprintf(b, " mtu=%d", nw.MTU)
	}
	if nw.Public {
		b.WriteString(" public")
	}
	fmt.Fprintf(b, " ports=%d", nw.ports)
	if _, shared := segmentOf(&nw.Network); !shared {
		fmt.Fprintf(b, " macs=%d", nw.macs.Len()) // a physical network's MACs are on its own line
	}
	b.WriteByte('\n')
	for _, sub := range []struct {
		name string
		pool *ipam.Pool
	}{{"ipv4", nw.v4}, {"ipv6", nw.v6}} {
		if sub.pool == nil {
			continue
		}
		st := sub.pool.Stats()
		fmt.Fprintf(b, "  %s %s capacity=%d used=%d cooling=%d held=%d\n", sub.name, sub.pool.Prefix(), st.Capacity, st.Used, st.Cooling, st.Held)
		for _, e := range sub.pool.Cooling() {
			fmt.Fprintf(b, "    cooling %s until=%d\n", e.Addr, e.Until)
		}
		for _, e := range sub.pool.Held() {
			fmt.Fprintf(b, "    held %s owner=%s until=%d\n", e.Addr, e.Owner, e.Until)
		}
	}
}

func describePod(b *strings.Builder, pod *model.Pod) {
	fmt.Fprintf(b, "pod %s %s/%s tenant=%s", pod.UID, pod.Namespace, pod.Name, pod.Tenant)
	if pod.Owner != "" {
		fmt.Fprintf(b, " owner=%s", pod.Owner)
	}
	if pod.Node != "" {
		fmt.Fprintf(b, " node=%s", pod.Node)
	}
	b.WriteByte('\n')
	for _, p := range pod.Ports {
		fmt.Fprintf(b, "  %s network=%s ips=%s mac=%s %s", p.Interface, p.Network, joinAddrs(p.IPs), p.MAC, p.State)
		if p.IPGroup != "" {
			fmt.Fprintf(b, " group=%s", p.IPGroup)
		}
		if p.DefaultRoute {
			b.WriteString(" default-route")
		}
		b.WriteByte('\n')
	}
}

func joinAddrs[T fmt.Stringer](xs []T) string {
	if len(xs) == 0 {
		return "-"
	}
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = x.String()
	}
	return strings.Join(parts, ",")
}
