package alloc

import (
	"github.com/knitter-cni/knitter/core/ipam"
	"github.com/knitter-cni/knitter/core/model"
)

// Tick advances the state's clock to now and ends every cooldown and sticky hold due by then. Time
// never goes backwards: an earlier now is ignored.
func (s *State) Tick(now model.Time) []Mutation {
	if now <= s.now {
		return nil
	}
	s.now = now
	var muts []Mutation
	expiredHolds := map[string]bool{}
	for _, key := range sortedKeys(s.networks) {
		nw := s.networks[key]
		for _, pool := range []*ipam.Pool{nw.v4, nw.v6} {
			if pool == nil {
				continue
			}
			for _, e := range pool.Expire(now) {
				if e.Owner != "" {
					expiredHolds[e.Owner] = true
					continue
				}
				ck := coolKey{network: key, addr: e.Addr}
				if _, ok := s.cooling[ck]; ok {
					delete(s.cooling, ck)
					muts = append(muts, del(cooldownKey(ck)))
				}
			}
		}
	}
	// Both families of a hold expire in the same tick (same Until); the hold record goes once.
	for _, hk := range sortedKeys(expiredHolds) {
		h, ok := s.holds[hk]
		if !ok {
			continue
		}
		nw := s.networks[h.Network]
		nw.macs.Release(h.MAC)
		nw.holds--
		delete(s.holds, hk)
		muts = append(muts, del(holdPrefix+hk))
	}
	return muts
}
