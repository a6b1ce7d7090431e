package alloc

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/knitter-cni/knitter/core/model"
)

// Key prefixes of the persisted records. One object per key.
const (
	tenantPrefix   = "tenants/"
	networkPrefix  = "networks/"  // networks/<tenant>/<name>
	groupPrefix    = "ipgroups/"  // ipgroups/<tenant>/<name>
	podPrefix      = "pods/"      // pods/<uid>
	nodePrefix     = "nodes/"     // nodes/<name>
	holdPrefix     = "holds/"     // holds/<tenant>/<owner>|<interface>
	cooldownPrefix = "cooldowns/" // cooldowns/<tenant>/<network>/<addr>
)

// NodePrefix starts the key of every node record: a mutation under it changes the node set.
const NodePrefix = nodePrefix

// cooldownRecord is the stored value of one cooling address.
type cooldownRecord struct {
	Until model.Time `json:"until"`
}

func put(key string, v any) Mutation {
	b, err := json.Marshal(v)
	if err != nil {
		// Every persisted type is plain data; failing to encode one is a programming error.
		panic(fmt.Sprintf("alloc: encoding %s: %v", key, err))
	}
	return Mutation{Key: key, Value: b}
}

func del(key string) Mutation { return Mutation{Key: key} }

func cooldownKey(k coolKey) string { return cooldownPrefix + k.network + "/" + k.addr.String() }

func parseCooldownKey(key string) (coolKey, error) {
	rest := strings.TrimPrefix(key, cooldownPrefix)
	i := strings.LastIndexByte(rest, '/')
	if i < 0 {
		return coolKey{}, fmt.Errorf("cooldown record %q: want cooldowns/<tenant>/<network>/<addr>", key)
	}
	a, err := netip.ParseAddr(rest[i+1:])
	if err != nil {
		return coolKey{}, fmt.Errorf("cooldown record %q: %w", key, err)
	}
	return coolKey{network: rest[:i], addr: a}, nil
}
