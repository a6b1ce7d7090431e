package model

import "fmt"

// Tenant owns networks, IP groups and ports. Kubernetes namespaces map to tenants of the same name.
type Tenant struct {
	Name  string `json:"name"`
	Quota Quota  `json:"quota"`
	// Admin tenants may create public networks and act on every tenant.
	Admin bool `json:"admin,omitempty"`
	// DefaultNetwork is the network (of this tenant, or a public one) a pod gets as eth0 when it asks
	// for nothing. Empty means pods without a request get no Knitter interface.
	DefaultNetwork string `json:"default_network,omitempty"`
	// PhysicalNetworks are the physical networks (node NICs) an admin granted the tenant: its vlan,
	// macvlan and sriov networks may use only these. Only an admin sets them; the manager stores them
	// sorted.
	PhysicalNetworks []string `json:"physical_networks,omitempty"`
}

// Quota bounds what a tenant may hold. Zero means unlimited.
type Quota struct {
	Networks int `json:"networks,omitempty"`
	Ports    int `json:"ports,omitempty"`
}

// Validate checks the tenant's fields.
func (t *Tenant) Validate() error {
	if err := ValidateName("name", t.Name); err != nil {
		return err
	}
	if t.DefaultNetwork != "" {
		if err := ValidateName("default_network", t.DefaultNetwork); err != nil {
			return err
		}
	}
	seen := make(map[string]int, len(t.PhysicalNetworks))
	for i, p := range t.PhysicalNetworks {
		f := fmt.Sprintf("physical_networks[%d]", i)
		if err := ValidateInterfaceName(f, p); err != nil {
			return err
		}
		if j, dup := seen[p]; dup {
			return Invalid(f, "%q is also physical_networks[%d]; list each physical network once", p, j)
		}
		seen[p] = i
	}
	return t.Quota.Validate()
}

// Validate checks that the quota's limits are not negative.
func (q Quota) Validate() error {
	if q.Networks < 0 {
		return Invalid("quota.networks", "is %d; use 0 for unlimited or a positive limit", q.Networks)
	}
	if q.Ports < 0 {
		return Invalid("quota.ports", "is %d; use 0 for unlimited or a positive limit", q.Ports)
	}
	return nil
}
