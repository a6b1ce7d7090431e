package alloc

import (
	"net/netip"

	"github.com/knitter-cni/knitter/core/ipam"
	"github.com/knitter-cni/knitter/core/model"
)

// State is the manager's whole allocation state. It is not safe for concurrent use: the manager
// serialises commands, the simulator drives it from one goroutine.
type State struct {
	cfg      Config
	now      model.Time
	tenants  map[string]*tenant
	networks map[string]*network // by "tenant/name"
	groups   map[string]*group   // by "tenant/name"
	pods     map[string]*model.Pod
	nodes    map[string]*model.Node
	// nodeNames are nodes' keys, sorted: the peer gate and the node watch walk them on every call,
	// and sorting thousands of names each time was most of their cost.
	nodeNames []string
	holds     map[string]*Hold   // sticky holds by holdKey (tenant, owner, interface)
	vnis      map[uint32]string  // VNI -> network key
	segments  map[segment]string // underlay segment -> network key (see segment.go)
	// macSpaces are the MAC pools shared by the networks of one physical network.
	macSpaces map[string]*macSpace
	cooling   map[coolKey]model.Time // persisted cooldowns, mirrored for their records
	tokens    map[string]*model.Token
}

type tenant struct {
	model.Tenant
	networks int // networks owned
	ports    int // live ports owned
}

type network struct {
	model.Network
	v4, v6 *ipam.Pool
	macs   *ipam.MACPool
	ports  int // live ports on the network
	groups int // IP groups on the network
	holds  int // sticky holds on the network
}

func (n *network) pool(a netip.Addr) *ipam.Pool {
	if a.Is4() {
		return n.v4
	}
	return n.v6
}

type group struct {
	model.IPGroup
	users map[netip.Addr]string // address -> port ID using it
}

type coolKey struct {
	network string
	addr    netip.Addr
}

// Hold is a sticky reservation: the addresses and MAC of a released port, kept for the next pod of
// the same tenant with the same owner and interface until Until. The owner string is the client's
// word, so a hold is only ever found under its own tenant: another tenant naming the same owner
// neither takes it nor ends it.
type Hold struct {
	Key string `json:"key"` // holdKey(Tenant, owner, Interface); the record is holds/<Key>
	// Tenant is the tenant of the pod that released the port (the network may be a public one).
	// Holds written before holds were scoped by tenant have none and are never handed back; they
	// end with their TTL.
	Tenant    string       `json:"tenant,omitempty"`
	Network   string       `json:"network"`
	IPs       []netip.Addr `json:"ips"`
	MAC       model.MAC    `json:"mac"`
	IPGroup   string       `json:"ip_group,omitempty"`
	Until     model.Time   `json:"until"`
	Interface string       `json:"interface"`
}

// New returns an empty state.
func New(cfg Config) (*State, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &State{
		cfg:       cfg,
		tenants:   map[string]*tenant{},
		networks:  map[string]*network{},
		groups:    map[string]*group{},
		pods:      map[string]*model.Pod{},
		nodes:     map[string]*model.Node{},
		holds:     map[string]*Hold{},
		vnis:      map[uint32]string{},
		segments:  map[segment]string{},
		macSpaces: map[string]*macSpace{},
		cooling:   map[coolKey]model.Time{},
		tokens:    map[string]*model.Token{},
	}, nil
}

// Now returns the time of the last Tick.
func (s *State) Now() model.Time { return s.now }

// Config returns the state's configuration.
func (s *State) Config() Config { return s.cfg }

// holdKey is the key of a tenant's hold for owner's interface: "<tenant>/<owner>|<interface>". The
// tenant comes first, so one tenant's holds can never be addressed by another tenant's request.
func holdKey(tenant, owner, iface string) string { return tenant + "/" + owner + "|" + iface }
