package model

import (
	"net/netip"
)

// AttachRequest is one interface a pod asks for, normalized from any annotation form (NPWG or
// Knitter's own). The core allocates one Port per request.
type AttachRequest struct {
	// Network is the name of the network to attach to.
	Network string `json:"network"`
	// Tenant owns the network; empty means the pod's tenant, then the public networks.
	Tenant string `json:"tenant,omitempty"`
	// Interface is the interface name inside the pod ("eth0", "net1").
	Interface string `json:"interface"`
	// IPs are static addresses, at most one per family. Empty means allocate.
	IPs []netip.Addr `json:"ips,omitempty"`
	// IPPrefixes are the static addresses the pod gave with a prefix length (the NPWG "ips" form
	// "10.1.1.5/24"); the manager refuses a prefix that is not the network subnet's.
	IPPrefixes []netip.Prefix `json:"ip_prefixes,omitempty"`
	// Gateways are the NPWG "default-route" gateways; the manager refuses one that is not the
	// gateway of the interface's subnet, through which the default route goes.
	Gateways []netip.Addr `json:"gateways,omitempty"`
	// MAC is a static MAC address; zero means allocate.
	MAC MAC `json:"mac,omitzero"`
	// IPGroup names an IP group of the network to take the address from.
	IPGroup string `json:"ip_group,omitempty"`
	// DefaultRoute says this interface carries the pod's default route.
	DefaultRoute bool `json:"default_route,omitempty"`
	// Attributes of Knitter's original annotation, kept for the agent and for users' tooling.
	Function   string            `json:"function,omitempty"`
	NICType    string            `json:"nic_type,omitempty"`
	Accelerate bool              `json:"accelerate,omitempty"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	// CNIArgs are the NPWG "cni-args", passed through to the agent verbatim (JSON object).
	CNIArgs string `json:"cni_args,omitempty"`
}

// PortState is where a port is in its life.
type PortState string

// Port states. A released port is deleted; its addresses go into cooldown or a sticky hold.
const (
	PortAllocated PortState = "allocated" // addresses assigned, not yet on a node
	PortBound     PortState = "bound"     // the agent built it on Node
)

// PodRef identifies a pod. UID is the identity; namespace/name are for people and for sticky owners.
type PodRef struct {
	UID       string `json:"uid"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// Port is one allocated interface of a pod on a network.
type Port struct {
	// ID is "<pod uid>/<interface>": unique, and stable across retries of the same request.
	ID        string       `json:"id"`
	Tenant    string       `json:"tenant"`
	Network   string       `json:"network"` // network key "tenant/name"
	Pod       PodRef       `json:"pod"`
	Interface string       `json:"interface"`
	IPs       []netip.Addr `json:"ips"`
	MAC       MAC          `json:"mac"`
	IPGroup   string       `json:"ip_group,omitempty"`
	// DefaultRoute says the pod's default route goes through this port.
	DefaultRoute bool      `json:"default_route,omitempty"`
	Node         string    `json:"node,omitempty"`
	State        PortState `json:"state"`
	Function     string    `json:"function,omitempty"`
	NICType      string    `json:"nic_type,omitempty"`
}

// Pod is a pod's allocation: the request it was made for and the ports it got, in request order.
type Pod struct {
	PodRef
	Tenant string `json:"tenant"`
	// Owner is the sticky key (e.g. "statefulset/ns/name/0"): a pod with the same owner gets the same
	// addresses back within the sticky TTL. Empty means not sticky.
	Owner    string          `json:"owner,omitempty"`
	Requests []AttachRequest `json:"requests"`
	Ports    []Port          `json:"ports"`
	Node     string          `json:"node,omitempty"`
	Created  Time            `json:"created"`
}
