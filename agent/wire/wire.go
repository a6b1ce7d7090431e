package wire

import "fmt"

// DefaultSocket is where knitter-agent listens unless configured otherwise.
const DefaultSocket = "/run/knitter/agent.sock"

// MaxRequestBytes bounds a request's body; the agent refuses a larger one, and the plugin refuses a
// network configuration that could not fit (a GC of thousands of attachments still does).
const MaxRequestBytes = 4 << 20

// Path is the prefix of every route; the verb ("add", "del", "check", "gc", "status") follows.
const Path = "/v1/cni/"

// The verbs, as they appear in routes and logs.
const (
	VerbAdd    = "add"
	VerbDel    = "del"
	VerbCheck  = "check"
	VerbGC     = "gc"
	VerbStatus = "status"
)

// Request is one CNI call as the plugin received it. Fields a verb does not use are empty.
type Request struct {
	// CNIVersion is the network configuration's cniVersion; the plugin converts the result to it.
	CNIVersion string `json:"cni_version,omitempty"`
	// Name is the network configuration's name, for logs.
	Name        string `json:"name,omitempty"`
	ContainerID string `json:"container_id,omitempty"`
	Netns       string `json:"netns,omitempty"`
	IfName      string `json:"ifname,omitempty"`
	// Args is CNI_ARGS verbatim ("K8S_POD_NAMESPACE=ns;K8S_POD_NAME=web-0;...").
	Args string `json:"args,omitempty"`
	// Network is the configuration's "network" ("tenant/name"): delegate mode, one network per
	// call on IfName. Empty means the pod's whole set of interfaces from its annotations.
	Network string `json:"network,omitempty"`
	// DNS is the configuration's "dns", returned in the ADD result; empty means the agent's own.
	DNS *DNS `json:"dns,omitempty"`
	// ValidAttachments are GC's attachments still in use (cni.dev/valid-attachments).
	ValidAttachments []Attachment `json:"valid_attachments,omitempty"`
}

// Attachment names one attachment of a container: CNI's (container ID, ifname) pair.
type Attachment struct {
	ContainerID string `json:"container_id"`
	IfName      string `json:"ifname"`
}

// Response answers a successful call. Result is set for ADD only.
type Response struct {
	Result *Result `json:"result,omitempty"`
	// Datapaths answers STATUS: how the agent builds each network type on its node.
	Datapaths []Datapath `json:"datapaths,omitempty"`
}

// Datapath says how the node builds one network type, why, and whether it can.
type Datapath struct {
	Type     string `json:"type"`
	Datapath string `json:"datapath"`
	Why      string `json:"why"`
	// Unavailable, when set, is why links of this type fail on this node.
	Unavailable string `json:"unavailable,omitempty"`
}

// Result is a CNI 1.x result in plain types: what the pod got.
type Result struct {
	Interfaces []Interface `json:"interfaces"`
	IPs        []IP        `json:"ips"`
	Routes     []Route     `json:"routes,omitempty"`
	DNS        DNS         `json:"dns,omitzero"`
}

// Interface is one interface of the result.
type Interface struct {
	Name string `json:"name"`
	MAC  string `json:"mac,omitempty"`
	MTU  int    `json:"mtu,omitempty"`
	// Sandbox is the netns path of an interface inside the pod; empty for a node-side interface.
	Sandbox string `json:"sandbox,omitempty"`
}

// IP is one address of the result. Address is a CIDR ("10.1.0.5/24"); Interface indexes
// Result.Interfaces.
type IP struct {
	Interface int    `json:"interface"`
	Address   string `json:"address"`
	Gateway   string `json:"gateway,omitempty"`
}

// Route is one route inside the pod; an empty GW is on-link.
type Route struct {
	Dst string `json:"dst"`
	GW  string `json:"gw,omitempty"`
}

// DNS is the resolver configuration of the result.
type DNS struct {
	Nameservers []string `json:"nameservers,omitempty"`
	Domain      string   `json:"domain,omitempty"`
	Search      []string `json:"search,omitempty"`
	Options     []string `json:"options,omitempty"`
}

// IsZero reports whether d says nothing.
func (d DNS) IsZero() bool {
	return len(d.Nameservers) == 0 && d.Domain == "" && len(d.Search) == 0 && len(d.Options) == 0
}

// CNI error codes the agent answers with (the CNI specification's, and Knitter's own from 100).
const (
	CodeIncompatibleVersion = 1
	CodeUnknownContainer    = 3
	CodeInvalidEnv          = 4
	CodeIOFailure           = 5
	CodeDecodingFailure     = 6
	CodeInvalidConfig       = 7
	CodeTryAgainLater       = 11
	CodePluginNotAvailable  = 50
	// CodeInvalidPodRequest is a pod whose annotations (or CNI_ARGS) ask for something invalid.
	CodeInvalidPodRequest = 100
	// CodeNotFound is a pod, tenant or network that does not exist.
	CodeNotFound = 101
	// CodeRefused is an allocation the manager refused: conflict, exhausted pool, quota, forbidden.
	CodeRefused = 102
	// CodeDataplane is a failure to build, check or remove links on the node.
	CodeDataplane = 103
	CodeInternal  = 999
)

// Error is a failed call: a CNI error code, a message that says what to fix, and details (the
// underlying cause, or the manager's error code).
type Error struct {
	Code    uint   `json:"code"`
	Msg     string `json:"msg"`
	Details string `json:"details,omitempty"`
}

// Error formats e as "msg (details)".
func (e *Error) Error() string {
	if e.Details == "" {
		return e.Msg
	}
	return fmt.Sprintf("%s (%s)", e.Msg, e.Details)
}
