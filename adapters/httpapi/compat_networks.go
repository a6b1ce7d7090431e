package httpapi

import (
	"net/netip"
	"strconv"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// nwPool is an allocation pool of the original API: an inclusive address range.
type nwPool struct {
	Start netip.Addr `json:"start"`
	End   netip.Addr `json:"end"`
}

// nwNetworkReq is the body of a network create: "network" (an overlay tenant network) or
// "provider_network" (vlan, vxlan or flat on a physical network).
type nwNetworkReq struct {
	Name            string       `json:"name"`
	CIDR            netip.Prefix `json:"cidr"`
	Gateway         netip.Addr   `json:"gateway"`
	Public          bool         `json:"public"`
	Description     string       `json:"description"` // accepted; not stored
	AllocationPools []nwPool     `json:"allocation_pools"`
	NetworkType     string       `json:"provider:network_type"`
	PhysicalNetwork string       `json:"provider:physical_network"`
	SegmentationID  flexUint     `json:"provider:segmentation_id"`
	VLANTransparent bool         `json:"vlan_transparent"`
}

type nwNetworkBody struct {
	Network  *nwNetworkReq `json:"network"`
	Provider *nwNetworkReq `json:"provider_network"`
	External any           `json:"external_network"`
}

// nwNetwork is a network in the original API's shape; network_id is the name.
type nwNetwork struct {
	Name            string   `json:"name"`
	ID              string   `json:"network_id"`
	Gateway         string   `json:"gateway"`
	CIDR            string   `json:"cidr"`
	CreateTime      string   `json:"create_time"`
	State           string   `json:"state"`
	Public          bool     `json:"public"`
	External        bool     `json:"external"`
	Owner           string   `json:"owner"`
	Description     string   `json:"description"`
	SubnetID        string   `json:"subnet_id"`
	AllocationPools []nwPool `json:"allocation_pools"`
	NetworkType     string   `json:"provider:network_type,omitempty"`
	PhysicalNetwork string   `json:"provider:physical_network,omitempty"`
	SegmentationID  string   `json:"provider:segmentation_id,omitempty"`
}

// nwTypes maps the original provider network types onto Knitter's.
var nwTypes = map[string]model.NetworkType{"vlan": model.VLAN, "vxlan": model.Overlay, "flat": model.MACVLAN}

func nwNetworkOf(n model.Network) nwNetwork {
	out := nwNetwork{Name: n.Name, ID: n.Name, State: "ACTIVE", Public: n.Public, Owner: n.Tenant,
		AllocationPools: []nwPool{}, PhysicalNetwork: n.PhysicalNetwork}
	sub := n.IPv4
	if sub == nil {
		sub = n.IPv6
	}
	if sub != nil {
		out.CIDR = sub.CIDR.String()
		if sub.Gateway.IsValid() {
			out.Gateway = sub.Gateway.String()
		}
		for _, r := range sub.Ranges {
			out.AllocationPools = append(out.AllocationPools, nwPool(r))
		}
	}
	switch n.Type {
	case model.VLAN:
		out.NetworkType, out.SegmentationID = "vlan", strconv.Itoa(int(n.VLAN))
	case model.MACVLAN:
		out.NetworkType = "flat"
	case model.SRIOV:
		out.NetworkType = "sriov"
	}
	return out
}

// model converts a create body; provider says which wrapper it came in.
func (q *nwNetworkReq) model(tenant string, provider bool) (model.Network, error) {
	prefix := "network"
	if provider {
		prefix = "provider_network"
	}
	n := model.Network{Name: q.Name, Tenant: tenant, Public: q.Public, Type: model.Overlay}
	switch {
	case !q.CIDR.IsValid():
		return n, model.Invalid(prefix+".cidr", "is required; give the subnet, e.g. \"10.1.0.0/16\"")
	case q.VLANTransparent:
		return n, model.Invalid(prefix+".vlan_transparent", "VLAN-transparent networks are not supported; remove it")
	case !provider && (q.NetworkType != "" || q.PhysicalNetwork != "" || q.SegmentationID != 0):
		return n, model.Invalid("network", "provider attributes belong in a \"provider_network\" body, not \"network\"")
	}
	if provider {
		t, ok := nwTypes[q.NetworkType]
		if !ok {
			return n, model.Invalid(prefix+".provider:network_type", "%q is not supported; use vlan, vxlan or flat", q.NetworkType)
		}
		n.Type, n.PhysicalNetwork = t, q.PhysicalNetwork
		switch t {
		case model.VLAN:
			n.VLAN = uint16(min(q.SegmentationID, 0xffff))
		case model.Overlay:
			n.VNI = uint32(q.SegmentationID)
		}
	}
	sub := &model.Subnet{CIDR: q.CIDR, Gateway: q.Gateway}
	for _, p := range q.AllocationPools {
		sub.Ranges = append(sub.Ranges, model.Range(p))
	}
	if q.CIDR.Addr().Is4() {
		n.IPv4 = sub
	} else {
		n.IPv6 = sub
	}
	return n, nil
}

func nwNetworkFields(prefix string) func(string) string {
	return fieldMapper(prefix,
		[2]string{"ipv4.ranges", "allocation_pools"}, [2]string{"ipv6.ranges", "allocation_pools"},
		[2]string{"ipv4.exclude", "allocation_pools"}, [2]string{"ipv6.exclude", "allocation_pools"},
		[2]string{"ipv4.gateway", "gateway"}, [2]string{"ipv6.gateway", "gateway"},
		[2]string{"ipv4.cidr", "cidr"}, [2]string{"ipv6.cidr", "cidr"},
		[2]string{"ipv4", "cidr"}, [2]string{"ipv6", "cidr"},
		[2]string{"vlan", "provider:segmentation_id"}, [2]string{"vni", "provider:segmentation_id"},
		[2]string{"physical_network", "provider:physical_network"}, [2]string{"type", "provider:network_type"},
	)
}

func (s *Server) nwCreateNetwork(c *call) (int, any, error) {
	tenant := c.r.PathValue("tenant")
	var body nwNetworkBody
	if err := c.decode(&body); err != nil {
		return 0, nil, err
	}
	req, provider, key := body.Network, false, "network"
	switch {
	case body.External != nil:
		return 0, nil, model.Invalid("external_network", "registering IaaS networks is not supported; create a provider_network")
	case body.Network != nil && body.Provider != nil:
		return 0, nil, model.Invalid("provider_network", "give either \"network\" or \"provider_network\", not both")
	case body.Provider != nil:
		req, provider, key = body.Provider, true, "provider_network"
	case body.Network == nil:
		return 0, nil, model.Invalid("network", "the body needs a \"network\" or \"provider_network\" object")
	}
	n, err := req.model(tenant, provider)
	if err != nil {
		return 0, nil, err
	}
	res, err := s.b.Do(c.ctx(), alloc.CreateNetworkCmd{As: c.as(), Network: n})
	if err != nil {
		return 0, nil, remapField(err, nwNetworkFields(key))
	}
	if stored, ok := res.(model.Network); ok {
		n = stored
	}
	view := nwNetworkOf(n)
	view.Description = req.Description
	return okStatus, map[string]nwNetwork{key: view}, nil
}

// nwVisible returns the networks a tenant sees in the original API: its own, then every public one.
func nwVisible(st *alloc.State, a alloc.Actor, tenant string) []model.Network {
	out := st.Networks(a, tenant)
	for _, n := range st.Networks(a, "") {
		if n.Public && n.Tenant != tenant {
			out = append(out, n)
		}
	}
	return out
}

// nwListNetworks lists the networks the tenant sees; ?all=true lists every network the caller may
// read, ?public=true only the public ones, ?name=x the one named x.
func (s *Server) nwListNetworks(c *call) (int, any, error) {
	tenant, q := c.r.PathValue("tenant"), c.r.URL.Query()
	if err := mustSee(c.actor, tenant); err != nil {
		return 0, nil, err
	}
	out := struct {
		Networks []nwNetwork `json:"networks"`
	}{Networks: []nwNetwork{}}
	err := s.view(func(st *alloc.State) error {
		if _, ok := st.Tenant(tenant); !ok {
			return notFound("tenant", "tenant %q does not exist", tenant)
		}
		var nets []model.Network
		switch {
		case q.Get("all") == "true":
			nets = st.Networks(c.actor, "")
		case q.Get("public") == "true":
			for _, n := range st.Networks(c.actor, "") {
				if n.Public {
					nets = append(nets, n)
				}
			}
		default:
			nets = nwVisible(st, c.actor, tenant)
		}
		name := q.Get("name")
		for _, n := range nets {
			if name == "" || n.Name == name {
				out.Networks = append(out.Networks, nwNetworkOf(n))
			}
		}
		if name != "" && len(out.Networks) == 0 {
			return notFound("name", "network %q does not exist in tenant %q and is not public", name, tenant)
		}
		return nil
	})
	return okStatus, out, err
}

// nwGetNetwork finds a network by name among those the tenant sees: its own first, then the public
// ones.
func (s *Server) nwGetNetwork(c *call) (int, any, error) {
	tenant, id := c.r.PathValue("tenant"), c.r.PathValue("id")
	if err := mustSee(c.actor, tenant); err != nil {
		return 0, nil, err
	}
	var out nwNetwork
	err := s.view(func(st *alloc.State) error {
		for _, n := range nwVisible(st, c.actor, tenant) {
			if n.Name == id {
				out = nwNetworkOf(n)
				return nil
			}
		}
		return notFound("network_id", "network %q does not exist in tenant %q and is not public", id, tenant)
	})
	return okStatus, map[string]nwNetwork{"network": out}, err
}

// nwDeleteNetwork deletes the tenant's network; the original answered 200 with a null body.
func (s *Server) nwDeleteNetwork(c *call) (int, any, error) {
	tenant, id := c.r.PathValue("tenant"), c.r.PathValue("id")
	if _, err := s.b.Do(c.ctx(), alloc.DeleteNetworkCmd{As: c.as(), Tenant: tenant, Name: id}); err != nil {
		return 0, nil, remapField(err, func(f string) string {
			if f == "name" {
				return "network_id"
			}
			return f
		})
	}
	return okStatus, nil, nil
}
