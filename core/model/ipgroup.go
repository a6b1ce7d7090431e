package model

import (
	"fmt"
	"net/netip"
)

// IPGroup is a named set of fixed addresses on a network. Ports that name the group get one of its
// addresses, so an operator can pin a workload to known IPs (firewall rules, DNS) without naming each
// pod's address. A group is given either as a list of addresses or as a size that the manager fills
// from the network's pool.
type IPGroup struct {
	Name    string `json:"name"`
	Tenant  string `json:"tenant"`
	Network string `json:"network"`
	// IPs are the group's addresses. On create, give them or give Size; the stored group always
	// lists them.
	IPs  []netip.Addr `json:"ips,omitempty"`
	Size int          `json:"size,omitempty"`
}

// Key returns the group's unique key, "tenant/name".
func (g *IPGroup) Key() string { return g.Tenant + "/" + g.Name }

// MaxIPGroupSize bounds one group.
const MaxIPGroupSize = 4096

// Validate checks the group's own fields (that its addresses fit the network is the core's check).
func (g *IPGroup) Validate() error {
	if err := ValidateName("name", g.Name); err != nil {
		return err
	}
	if err := ValidateName("tenant", g.Tenant); err != nil {
		return err
	}
	if err := ValidateName("network", g.Network); err != nil {
		return err
	}
	switch {
	case len(g.IPs) == 0 && g.Size == 0:
		return Invalid("ips", "an IP group needs its addresses (ips) or a size to allocate")
	case len(g.IPs) > 0 && g.Size != 0 && g.Size != len(g.IPs):
		return Invalid("size", "is %d but %d ips are listed; give one or the other", g.Size, len(g.IPs))
	case g.Size < 0 || g.Size > MaxIPGroupSize:
		return Invalid("size", "%d is out of range; use 1-%d", g.Size, MaxIPGroupSize)
	case len(g.IPs) > MaxIPGroupSize:
		return Invalid("ips", "lists %d addresses; use at most %d", len(g.IPs), MaxIPGroupSize)
	}
	seen := make(map[netip.Addr]int, len(g.IPs))
	for i, ip := range g.IPs {
		f := fmt.Sprintf("ips[%d]", i)
		if !ip.IsValid() {
			return Invalid(f, "is not an IP address")
		}
		if j, dup := seen[ip]; dup {
			return Invalid(f, "%s is listed twice (also ips[%d]); remove one", ip, j)
		}
		seen[ip] = i
	}
	return nil
}
