package ipam

import (
	"fmt"
	"hash/fnv"

	"github.com/knitter-cni/knitter/core/model"
)

// macCounters is the number of MACs a MACPool can hand out: the last four bytes count from 1.
const macCounters = 1<<32 - 1

// MACPool allocates unique locally-administered unicast MACs for one layer-2 domain: a network, or
// every network of one physical network (the caller decides what shares a pool).
//
// A pool's MACs share a two-byte prefix derived from its seed, so MACs of different pools rarely look
// alike in a packet capture; uniqueness is only promised within one pool. A MACPool is not safe for
// concurrent use.
type MACPool struct {
	seed   string
	label  string // what the pool is, for errors: `network "t/a"`, `physical network "eth1"`
	prefix [2]byte
	limit  uint64 // highest counter Allocate hands out; lowered by tests to reach exhaustion
	local  bitset // counters in use under prefix
	other  map[model.MAC]struct{}
	hint   uint64 // at or below the lowest free counter >= 1
}

// NewMACPool derives the first two bytes from an FNV-1a hash of seed, with the locally-administered
// bit set and the multicast bit clear; the last four bytes count up from 1. label names the pool in
// errors.
func NewMACPool(seed, label string) *MACPool {
	h := fnv.New32a()
	h.Write([]byte(seed))
	s := h.Sum32()
	return &MACPool{
		seed:   seed,
		label:  label,
		prefix: [2]byte{byte(s>>8)&^0x01 | 0x02, byte(s)},
		limit:  macCounters,
		other:  make(map[model.MAC]struct{}),
		hint:   1,
	}
}

// Allocate returns the lowest free MAC of the pool's prefix; CodeExhausted when all are in use.
func (m *MACPool) Allocate() (model.MAC, error) {
	c, ok := m.local.nextClear(max(m.hint, 1))
	if !ok || c > m.limit {
		m.hint = m.limit
		return model.MAC{}, model.Errorf(model.CodeExhausted, "",
			"%s has no free MAC: all %d of %s are in use; delete pods or give static MACs", m.label, m.limit, m)
	}
	m.local.add(c)
	m.hint = c
	return m.mac(c), nil
}

// Claim marks mac used (a static MAC, or a restore from storage). A MAC that is not unicast is
// CodeInvalid; one already in use is CodeConflict. MACs outside the pool's prefix are allowed and
// tracked too, so a static MAC is unique within the network whatever it looks like.
func (m *MACPool) Claim(mac model.MAC) error {
	if !mac.Unicast() {
		return model.Invalid("", "%s is not a unicast MAC; give one whose first byte is even and not zero, such as 02:00:00:00:00:01", mac)
	}
	if c, ok := m.counter(mac); ok {
		if !m.local.add(c) {
			return m.conflict(mac)
		}
		return nil
	}
	if _, used := m.other[mac]; used {
		return m.conflict(mac)
	}
	m.other[mac] = struct{}{}
	return nil
}

func (m *MACPool) conflict(mac model.MAC) error {
	return model.Errorf(model.CodeConflict, "", "%s is already in use on %s; pick another MAC or leave it empty to get one", mac, m.label)
}

// Release gives mac back at once (MACs have no cooldown) and reports whether it was in use.
func (m *MACPool) Release(mac model.MAC) bool {
	c, ok := m.counter(mac)
	if !ok {
		_, used := m.other[mac]
		delete(m.other, mac)
		return used
	}
	if !m.local.remove(c) {
		return false
	}
	m.hint = min(m.hint, c)
	return true
}

// InUse reports whether mac is allocated or claimed.
func (m *MACPool) InUse(mac model.MAC) bool {
	if c, ok := m.counter(mac); ok {
		return m.local.has(c)
	}
	_, used := m.other[mac]
	return used
}

// Len returns the number of MACs in use.
func (m *MACPool) Len() int { return int(m.local.n) + len(m.other) }

// Prefix returns the two bytes every allocated MAC starts with.
func (m *MACPool) Prefix() [2]byte { return m.prefix }

// String describes the pool's space, such as "06:3c:xx:xx:xx:xx".
func (m *MACPool) String() string {
	return fmt.Sprintf("%02x:%02x:xx:xx:xx:xx", m.prefix[0], m.prefix[1])
}

func (m *MACPool) counter(mac model.MAC) (uint64, bool) {
	if mac[0] != m.prefix[0] || mac[1] != m.prefix[1] {
		return 0, false
	}
	return uint64(mac[2])<<24 | uint64(mac[3])<<16 | uint64(mac[4])<<8 | uint64(mac[5]), true
}

func (m *MACPool) mac(c uint64) model.MAC {
	return model.MAC{m.prefix[0], m.prefix[1], byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)}
}
