package alloc

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

// TestLayer2Properties drives random commands of three tenants and an admin — grants, networks of
// every type on four physical networks (one of them the underlay), pods with dynamic and static
// MACs, sticky releases — and checks after every step that no two networks share a layer-2 segment
// (in particular no two of different tenants), that every network uses only a physical network its
// tenant was granted and never the underlay, and that no MAC is on two ports or holds of one
// physical network. At the end a restore from the mutations must give the same state.
func TestLayer2Properties(t *testing.T) {
	seqs := 400
	if testing.Short() {
		seqs = 100
	}
	seqs /= raceScale
	for seed := range uint64(seqs) {
		if err := runLayer2(seed, 60); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

func runLayer2(seed uint64, steps int) error {
	rng := rand.New(rand.NewPCG(seed, 0x4c32))
	cfg := DefaultConfig()
	cfg.Underlay = []string{"eth0"}
	s, err := New(cfg)
	if err != nil {
		return err
	}
	store := map[string][]byte{}
	run := func(c Command) error {
		_, muts, err := s.Apply(c)
		if err != nil && len(muts) > 0 {
			return fmt.Errorf("%s failed (%v) with %d mutations", c.Op(), err, len(muts))
		}
		for _, m := range muts {
			if m.Delete() {
				delete(store, m.Key)
			} else {
				store[m.Key] = m.Value
			}
		}
		return nil
	}
	phys := []string{"eth0", "eth1", "eth2", "eth3"}
	tenants := []string{"t0", "t1", "t2", "ops"}
	types := []model.NetworkType{model.Overlay, model.VLAN, model.MACVLAN, model.SRIOV}
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	grants := func(from []string) []string {
		var g []string
		for _, p := range from {
			if rng.IntN(3) == 0 {
				g = append(g, p)
			}
		}
		return g
	}
	for _, tn := range tenants {
		if err := run(CreateTenantCmd{Tenant: model.Tenant{Name: tn, Admin: tn == "ops", PhysicalNetworks: grants(phys[1:])}}); err != nil {
			return err
		}
	}
	var netNames []string
	for i := range 6 {
		netNames = append(netNames, fmt.Sprintf("n%d", i))
	}
	macs := []model.MAC{{0x02, 0, 0, 0, 0, 1}, {0x02, 0, 0, 0, 0, 2}}
	for i := range steps {
		var c Command
		switch op := rng.IntN(12); {
		case op == 0:
			tn := pick(tenants)
			cur := s.tenants[tn].Tenant
			cur.PhysicalNetworks = grants(phys) // the underlay too: refused
			as := As("")
			if rng.IntN(4) == 0 {
				as = As(tn) // a tenant granting itself: refused
			}
			c = UpdateTenantCmd{As: as, Tenant: cur}
		case op < 5:
			tn := pick(tenants)
			n := model.Network{Tenant: tn, Name: pick(netNames), Type: types[rng.IntN(len(types))],
				IPv4: &model.Subnet{CIDR: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), 0, 0}), 28)}}
			if n.Type != model.Overlay {
				n.PhysicalNetwork = pick(phys)
				n.VLAN = uint16(rng.IntN(3)) * 100
				if n.Type == model.VLAN && n.VLAN == 0 {
					n.VLAN = 200
				}
			}
			as := As(tn)
			if tn == "ops" || rng.IntN(3) == 0 {
				as = ""
				n.Public = tn == "ops" && rng.IntN(2) == 0
			}
			c = CreateNetworkCmd{As: as, Network: n}
		case op == 5:
			keys := sortedKeys(s.networks)
			if len(keys) == 0 {
				continue
			}
			nw := s.networks[keys[rng.IntN(len(keys))]]
			c = DeleteNetworkCmd{Tenant: nw.Tenant, Name: nw.Name}
		case op < 9:
			tn := pick(tenants[:3])
			var usable []*network
			for _, key := range sortedKeys(s.networks) {
				if nw := s.networks[key]; nw.Tenant == tn || nw.Public {
					usable = append(usable, nw)
				}
			}
			if len(usable) == 0 {
				continue
			}
			uid := fmt.Sprintf("p%d", i)
			r := PodRequest{Pod: model.PodRef{UID: uid, Namespace: tn, Name: uid}, Tenant: tn}
			if rng.IntN(2) == 0 {
				r.Owner = fmt.Sprintf("sts/%d", rng.IntN(2)) // the same owner strings in every tenant
			}
			for j := range 1 + rng.IntN(2) {
				nw := usable[rng.IntN(len(usable))]
				q := model.AttachRequest{Network: nw.Name, Tenant: nw.Tenant, Interface: fmt.Sprintf("eth%d", j)}
				if rng.IntN(4) == 0 {
					q.MAC = macs[rng.IntN(len(macs))]
				}
				r.Requests = append(r.Requests, q)
			}
			c = AllocatePodCmd{As: As(tn), PodRequest: r}
		case op < 11:
			uids := sortedKeys(s.pods)
			if len(uids) == 0 {
				continue
			}
			c = ReleasePodCmd{UID: uids[rng.IntN(len(uids))]}
		default:
			c = TickCmd{Now: s.Now().Add(cfg.StickyTTL / 2)}
		}
		if err := run(c); err != nil {
			return fmt.Errorf("step %d: %w", i, err)
		}
		if err := checkLayer2(s); err != nil {
			return fmt.Errorf("step %d (%s): %w", i, c.Op(), err)
		}
	}
	recs := make([]Record, 0, len(store))
	for _, k := range sortedKeys(store) {
		recs = append(recs, Record{Key: k, Value: store[k]})
	}
	r, err := Restore(cfg, recs)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	r.Tick(s.Now())
	if got, want := r.Describe(), s.Describe(); got != want {
		return fmt.Errorf("restored state differs:\n%s\nwant:\n%s", got, want)
	}
	return nil
}

// checkLayer2 is the layer-2 rule, written out on the state's networks, ports and holds.
func checkLayer2(s *State) error {
	type seg struct {
		phys string
		vlan uint16
	}
	owner := map[seg]string{}
	for _, key := range sortedKeys(s.networks) {
		nw := s.networks[key]
		if nw.Type == model.Overlay {
			continue
		}
		if slices.Contains(s.cfg.Underlay, nw.PhysicalNetwork) {
			return fmt.Errorf("network %s uses the underlay %s", key, nw.PhysicalNetwork)
		}
		if !slices.Contains(s.tenants[nw.Tenant].PhysicalNetworks, nw.PhysicalNetwork) {
			return fmt.Errorf("network %s uses %s, not granted to tenant %s (%v)", key, nw.PhysicalNetwork, nw.Tenant, s.tenants[nw.Tenant].PhysicalNetworks)
		}
		g := seg{nw.PhysicalNetwork, nw.VLAN}
		if nw.Type == model.MACVLAN {
			g.vlan = 0 // built untagged on the parent
		}
		if other, dup := owner[g]; dup {
			return fmt.Errorf("networks %s and %s share segment %v (tenants %s and %s)", other, key, g, s.networks[other].Tenant, nw.Tenant)
		}
		owner[g] = key
	}
	// MACs: one space per physical network (per network for overlays).
	space := func(netKey string) string {
		if nw := s.networks[netKey]; nw.Type != model.Overlay {
			return "phys " + nw.PhysicalNetwork
		}
		return "net " + netKey
	}
	seen := map[string]string{}
	use := func(netKey string, m model.MAC, who string) error {
		k := space(netKey) + " " + m.String()
		if other, dup := seen[k]; dup {
			return fmt.Errorf("MAC %s on %s and %s", k, other, who)
		}
		seen[k] = who
		return nil
	}
	for _, uid := range sortedKeys(s.pods) {
		for _, p := range s.pods[uid].Ports {
			if err := use(p.Network, p.MAC, "port "+p.ID); err != nil {
				return err
			}
		}
	}
	for _, hk := range sortedKeys(s.holds) {
		h := s.holds[hk]
		if err := use(h.Network, h.MAC, "hold "+hk); err != nil {
			return err
		}
	}
	return nil
}
