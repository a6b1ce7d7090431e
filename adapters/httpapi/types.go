package httpapi

import (
	"net/netip"

	"github.com/knitter-cni/knitter/core/ipam"
	"github.com/knitter-cni/knitter/core/model"
)

// ErrorBody is the JSON shape of every error answer.
type ErrorBody struct {
	Code    model.Code `json:"code"`
	Message string     `json:"message"`
	// Field is the JSON path of the offending input ("ipv4.cidr", "requests[0].ips"), if any.
	Field string `json:"field,omitempty"`
}

// Codes of the API that are not the core's.
const (
	// CodeInternal is a failure of the manager itself (500); its log has the details.
	CodeInternal model.Code = "internal"
	// CodeTooLarge is a body over MaxBodyBytes (413).
	CodeTooLarge model.Code = "too_large"
	// CodeMethodNotAllowed is a known path with another method (405).
	CodeMethodNotAllowed model.Code = "method_not_allowed"
	// CodeTooManyRequests is a client over its requests in flight (429, with Retry-After).
	CodeTooManyRequests model.Code = "too_many_requests"
)

// Usage is what a tenant holds.
type Usage struct {
	Networks int `json:"networks"`
	Ports    int `json:"ports"`
}

// TenantInfo is a tenant with its usage.
type TenantInfo struct {
	model.Tenant
	Usage Usage `json:"usage"`
}

// PoolStats counts the addresses of one subnet: Capacity is the allocatable addresses, and Used,
// Cooling (released, waiting out the cooldown) and Held (kept for a sticky owner) are taken.
type PoolStats struct {
	Capacity uint64 `json:"capacity"`
	Used     uint64 `json:"used"`
	Cooling  uint64 `json:"cooling"`
	Held     uint64 `json:"held"`
}

func poolStats(s ipam.Stats) PoolStats {
	return PoolStats{Capacity: s.Capacity, Used: s.Used, Cooling: s.Cooling, Held: s.Held}
}

// NetworkStats is the address usage of a network, per family.
type NetworkStats struct {
	IPv4 *PoolStats `json:"ipv4,omitempty"`
	IPv6 *PoolStats `json:"ipv6,omitempty"`
}

// NetworkInfo is a network with its address usage (only GET of one network fills Stats).
type NetworkInfo struct {
	model.Network
	Stats *NetworkStats `json:"stats,omitempty"`
}

// BindRequest is the body of POST /api/v1/pods/{uid}/bind.
type BindRequest struct {
	Node string `json:"node"`
}

// BoundPod is the answer of POST /api/v1/pods/{uid}/bind?include=networks: the pod, as bind
// answers it, plus every network its ports are on (each once, in port order). knitter-agent binds
// with it, so that an ADD needs one request to the manager.
type BoundPod struct {
	model.Pod
	Networks []model.Network `json:"networks"`
}

// NodeRequest is the body of PUT /api/v1/nodes/{name}: the node's VXLAN tunnel endpoint. Name may
// be left out; if given it must match the path.
type NodeRequest struct {
	Name string     `json:"name,omitempty"`
	VTEP netip.Addr `json:"vtep,omitzero"`
}

// TokenRequest is the body of POST /api/v1/tokens.
type TokenRequest struct {
	ID     string     `json:"id"`
	Role   model.Role `json:"role"`
	Tenant string     `json:"tenant,omitempty"`
}

// TokenInfo is a token record as the API shows it: never its hash.
type TokenInfo struct {
	ID      string     `json:"id"`
	Role    model.Role `json:"role"`
	Tenant  string     `json:"tenant,omitempty"`
	Created model.Time `json:"created,omitempty"`
}

func tokenInfo(t model.Token) TokenInfo {
	return TokenInfo{ID: t.ID, Role: t.Role, Tenant: t.Tenant, Created: t.Created}
}

// CreatedToken answers POST /api/v1/tokens. Token is the bearer string "<id>.<secret>"; it is
// shown this once and cannot be read back.
type CreatedToken struct {
	Token string `json:"token"`
	TokenInfo
}

// PortQuery selects ports for GET /api/v1/ports; empty fields match everything. Network is a network
// key "tenant/name", or a name that Tenant (or the caller's own tenant) qualifies.
type PortQuery struct {
	Tenant  string
	Network string
	Node    string
	Pod     string
}

// Lists. Every list answer is an object so that fields can be added later. Continue is set when
// more items may follow: send it back as ?continue= for the next page (see DefaultPageSize).
type (
	// TenantList answers GET /api/v1/tenants.
	TenantList struct {
		Tenants  []TenantInfo `json:"tenants"`
		Continue string       `json:"continue,omitempty"`
	}
	// NetworkList answers the network lists.
	NetworkList struct {
		Networks []model.Network `json:"networks"`
		Continue string          `json:"continue,omitempty"`
	}
	// IPGroupList answers GET /api/v1/tenants/{tenant}/ipgroups.
	IPGroupList struct {
		IPGroups []model.IPGroup `json:"ipgroups"`
		Continue string          `json:"continue,omitempty"`
	}
	// PortList answers GET /api/v1/ports.
	PortList struct {
		Ports    []model.Port `json:"ports"`
		Continue string       `json:"continue,omitempty"`
	}
	// NodeList answers GET /api/v1/nodes.
	NodeList struct {
		Nodes    []model.Node `json:"nodes"`
		Continue string       `json:"continue,omitempty"`
	}
	// TokenList answers GET /api/v1/tokens.
	TokenList struct {
		Tokens   []TokenInfo `json:"tokens"`
		Continue string      `json:"continue,omitempty"`
	}
)
