package alloc

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/core/model"
)

// refNet is the naive reference of one network family: a map of every address of a tiny subnet.
type refNet struct {
	addrs   []netip.Addr              // allocatable addresses in order
	user    map[netip.Addr]string     // address -> port ID
	cooling map[netip.Addr]model.Time // address -> end of cooldown
}

func newRefNet(prefix netip.Prefix, gw netip.Addr) *refNet {
	r := &refNet{user: map[netip.Addr]string{}, cooling: map[netip.Addr]model.Time{}}
	last := model.LastAddr(prefix)
	for a := prefix.Addr().Next(); a.Compare(last) <= 0; a = a.Next() {
		if a == gw || (a.Is4() && a == last) {
			continue
		}
		r.addrs = append(r.addrs, a)
	}
	return r
}

// pick is the allocation rule written as plainly as possible: the lowest address that is neither used
// nor cooling; else the cooling address whose cooldown ends first (lowest on ties).
func (r *refNet) pick(taken map[netip.Addr]bool) (netip.Addr, bool) {
	for _, a := range r.addrs {
		if r.user[a] == "" && !taken[a] {
			if _, c := r.cooling[a]; !c {
				return a, true
			}
		}
	}
	var best netip.Addr
	var bestUntil model.Time
	for _, a := range r.addrs {
		until, c := r.cooling[a]
		if c && r.user[a] == "" && !taken[a] && (!best.IsValid() || until < bestUntil) {
			best, bestUntil = a, until
		}
	}
	return best, best.IsValid()
}

type refModel struct {
	nets map[string][]*refNet // network key -> families
	pods map[string][]string  // uid -> network keys of its ports, for release
	reqs map[string]PodRequest
	now  model.Time
}

// TestAllocateAgainstReference drives State and the naive reference with the same random commands
// and requires the same outcome at every step: the same addresses, the same failures (which change
// nothing), idempotent retries, no address on two ports, cooldowns respected, and a restore from the
// mutations that reproduces the state.
func TestAllocateAgainstReference(t *testing.T) {
	seqs := 10000
	if testing.Short() {
		seqs = 1000
	}
	seqs /= raceScale
	for seed := range uint64(seqs) {
		if err := runReference(seed, 30); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

func runReference(seed uint64, steps int) error {
	rng := rand.New(rand.NewPCG(seed, 0x6b6e6974))
	cfg := DefaultConfig()
	cfg.Cooldown = 5 * time.Second
	s, err := New(cfg)
	if err != nil {
		return err
	}
	store := map[string][]byte{}
	apply := func(muts []Mutation) {
		for _, m := range muts {
			if m.Delete() {
				delete(store, m.Key)
			} else {
				store[m.Key] = m.Value
			}
		}
	}
	must := func(_ any, muts []Mutation, err error) {
		if err != nil {
			panic(err)
		}
		apply(muts)
	}
	must(s.Apply(CreateTenantCmd{Tenant: model.Tenant{Name: "t"}}))
	nets := []model.Network{
		{Tenant: "t", Name: "a", Type: model.Overlay, IPv4: &model.Subnet{CIDR: netip.MustParsePrefix("10.0.0.0/29"), Gateway: netip.MustParseAddr("10.0.0.1")}},
		{Tenant: "t", Name: "b", Type: model.Overlay, IPv4: &model.Subnet{CIDR: netip.MustParsePrefix("10.0.1.0/30")}, IPv6: &model.Subnet{CIDR: netip.MustParsePrefix("fd00::/125")}},
	}
	ref := refModel{nets: map[string][]*refNet{}, pods: map[string][]string{}, reqs: map[string]PodRequest{}}
	for _, n := range nets {
		must(s.CreateNetwork(Admin, n))
		for _, sub := range n.Subnets() {
			ref.nets[n.Key()] = append(ref.nets[n.Key()], newRefNet(sub.CIDR, sub.Gateway))
		}
	}
	for i := range steps {
		switch op := rng.IntN(10); {
		case op < 5:
			if err := refAllocate(s, &ref, rng, i, apply); err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
		case op < 8:
			uids := slices.Sorted(maps.Keys(ref.pods))
			if len(uids) == 0 {
				continue
			}
			uid := uids[rng.IntN(len(uids))]
			ok, muts, err := s.ReleasePod(Admin, uid)
			if err != nil || !ok {
				return fmt.Errorf("step %d: release %s: %v %v", i, uid, ok, err)
			}
			apply(muts)
			until := ref.now.Add(cfg.Cooldown)
			for _, fams := range ref.nets {
				for _, r := range fams {
					for a, u := range r.user {
						if len(u) > len(uid) && u[:len(uid)+1] == uid+"/" {
							delete(r.user, a)
							r.cooling[a] = until
						}
					}
				}
			}
			delete(ref.pods, uid)
			delete(ref.reqs, uid)
		default:
			ref.now += model.Time(rng.IntN(4000))
			apply(s.Tick(ref.now))
			for _, fams := range ref.nets {
				for _, r := range fams {
					for a, until := range r.cooling {
						if until <= ref.now {
							delete(r.cooling, a)
						}
					}
				}
			}
		}
		if err := checkNoSharing(s); err != nil {
			return fmt.Errorf("step %d: %w", i, err)
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

func refAllocate(s *State, ref *refModel, rng *rand.Rand, step int, apply func([]Mutation)) error {
	// A third of the time, retry an existing pod: the same request must return the same ports.
	if uids := slices.Sorted(maps.Keys(ref.reqs)); len(uids) > 0 && rng.IntN(3) == 0 {
		uid := uids[rng.IntN(len(uids))]
		before, _ := s.Pod(uid)
		pod, muts, err := s.AllocatePod(Admin, ref.reqs[uid])
		if err != nil || len(muts) != 0 || fmt.Sprint(pod) != fmt.Sprint(before) {
			return fmt.Errorf("retry of %s not idempotent: err=%v muts=%d", uid, err, len(muts))
		}
		return nil
	}
	uid := fmt.Sprintf("p%d", step)
	req := PodRequest{Pod: model.PodRef{UID: uid, Namespace: "t", Name: uid}, Tenant: "t"}
	keys := []string{"t/a", "t/b"}
	n := 1 + rng.IntN(3)
	for j := range n {
		key := keys[rng.IntN(2)]
		q := model.AttachRequest{Network: key[2:], Interface: fmt.Sprintf("eth%d", j)}
		if rng.IntN(5) == 0 { // a static address, possibly taken or cooling
			fam := ref.nets[key][0]
			q.IPs = []netip.Addr{fam.addrs[rng.IntN(len(fam.addrs))]}
		}
		req.Requests = append(req.Requests, q)
	}
	// Predict with the reference.
	taken := map[netip.Addr]bool{}
	var want [][]netip.Addr
	fail := false
	for _, q := range req.Requests {
		var ips []netip.Addr
		for fi, fam := range ref.nets["t/"+q.Network] {
			if fi == 0 && len(q.IPs) > 0 {
				a := q.IPs[0]
				if fam.user[a] != "" || taken[a] {
					fail = true
				}
				taken[a] = true
				ips = append(ips, a)
				continue
			}
			a, ok := fam.pick(taken)
			if !ok {
				fail = true
				break
			}
			taken[a] = true
			ips = append(ips, a)
		}
		want = append(want, ips)
	}
	before := s.Describe()
	pod, muts, err := s.AllocatePod(Admin, req)
	if fail {
		if err == nil {
			return fmt.Errorf("allocate %s: reference fails, State gave %v", uid, pod.Ports)
		}
		if len(muts) != 0 || s.Describe() != before {
			return fmt.Errorf("failed allocate %s changed the state (all-or-nothing broken): %v", uid, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("allocate %s: reference succeeds with %v, State: %v", uid, want, err)
	}
	apply(muts)
	for i, p := range pod.Ports {
		if fmt.Sprint(p.IPs) != fmt.Sprint(want[i]) {
			return fmt.Errorf("allocate %s port %s: got %v, reference %v", uid, p.Interface, p.IPs, want[i])
		}
		for fi, a := range p.IPs {
			fam := ref.nets[p.Network][fi]
			fam.user[a] = p.ID
			delete(fam.cooling, a)
		}
	}
	ref.pods[uid] = nil
	ref.reqs[uid] = req
	return nil
}

func checkNoSharing(s *State) error {
	seen := map[string]string{}
	for _, p := range s.Ports(Admin, PortFilter{}) {
		for _, a := range p.IPs {
			k := p.Network + " " + a.String()
			if other, dup := seen[k]; dup {
				return fmt.Errorf("%s held by ports %s and %s", k, other, p.ID)
			}
			seen[k] = p.ID
		}
		k := p.Network + " " + p.MAC.String()
		if other, dup := seen[k]; dup {
			return fmt.Errorf("MAC %s held by ports %s and %s", k, other, p.ID)
		}
		seen[k] = p.ID
	}
	return nil
}
