package alloc

import (
	"fmt"
	"time"

	"github.com/knitter-cni/knitter/core/model"
)

// Config holds the tunables of allocation.
type Config struct {
	// Cooldown is how long a released address stays out of use while other addresses are free, so
	// peers' ARP/neighbour caches and conntrack entries for the old pod expire first.
	Cooldown time.Duration
	// StickyTTL is how long a released sticky port (a pod with an Owner, e.g. a StatefulSet member)
	// keeps its addresses and MAC for the next pod with the same owner.
	StickyTTL time.Duration
	// VNIStart is the first VXLAN id the manager picks for overlay networks created without one.
	VNIStart uint32
	// Underlay lists the physical networks (node NICs) that carry the nodes' own traffic — the VTEP
	// and management NIC. No tenant may be granted one and no network may use one.
	Underlay []string
	// Strategy is how a pool picks the next address: StrategyLowestFree ("" too) or
	// StrategyNextFit (ipam.Pool.SetNextFit).
	Strategy string
}

// Allocation strategies.
const (
	StrategyLowestFree = "lowest-free" // the lowest free address: pools stay compact
	StrategyNextFit    = "next-fit"    // the first free address after the last handed out, wrapping round
)

// DefaultConfig returns the defaults: 30 s cooldown, 10 min sticky TTL, VNIs from 1000.
func DefaultConfig() Config {
	return Config{Cooldown: 30 * time.Second, StickyTTL: 10 * time.Minute, VNIStart: 1000}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Cooldown < 0 {
		return model.Invalid("cooldown", "is negative (%s); use 0 to disable", c.Cooldown)
	}
	if c.StickyTTL < 0 {
		return model.Invalid("sticky_ttl", "is negative (%s); use 0 to disable sticky addresses", c.StickyTTL)
	}
	if c.VNIStart == 0 || c.VNIStart > model.MaxVNI {
		return model.Invalid("vni_start", "%d is out of range; use 1-%d", c.VNIStart, model.MaxVNI)
	}
	switch c.Strategy {
	case "", StrategyLowestFree, StrategyNextFit:
	default:
		return model.Invalid("strategy", "%q is not a strategy; use %s or %s", c.Strategy, StrategyLowestFree, StrategyNextFit)
	}
	for i, p := range c.Underlay {
		if err := model.ValidateInterfaceName(fmt.Sprintf("underlay[%d]", i), p); err != nil {
			return err
		}
	}
	return nil
}

// Actor is who issues a command. Admins act on every tenant; a tenant only on its own objects.
// System actors (knitter-agent, knitter-monitor) manage every tenant's pods and nodes and read
// everything, but change no tenant, network, IP group or token.
type Actor struct {
	Tenant string
	Admin  bool
	System bool
}

// Admin is the actor of the admin token.
var Admin = Actor{Admin: true}

// System is the actor of knitter-agent and knitter-monitor.
var System = Actor{System: true}

// may reports whether a can change tenant's networks and IP groups.
func (a Actor) may(tenant string) bool { return a.Admin || a.Tenant == tenant }

// sees reports whether a can read tenant's objects.
func (a Actor) sees(tenant string) bool { return a.Admin || a.System || a.Tenant == tenant }

func (a Actor) check(tenant string) error {
	if a.may(tenant) {
		return nil
	}
	if a.System {
		return model.Errorf(model.CodeForbidden, "", "system tokens manage pods and nodes only; use an admin token")
	}
	return model.Errorf(model.CodeForbidden, "tenant", "tenant %q may not act on tenant %q; use that tenant's token or an admin token", a.Tenant, tenant)
}

// checkPods allows the pod's tenant, admins and system actors.
func (a Actor) checkPods(tenant string) error {
	if a.System {
		return nil
	}
	return a.check(tenant)
}

// checkNodes allows admins and system actors.
func (a Actor) checkNodes() error {
	if a.Admin || a.System {
		return nil
	}
	return model.Errorf(model.CodeForbidden, "", "only knitter-agent/knitter-monitor (system tokens) and admins manage nodes")
}

// checkPod allows the pod's tenant, admins and system actors to act on an existing pod. Another
// tenant's refusal does not name the pod's tenant: it came with a UID only.
func (a Actor) checkPod(pod *model.Pod) error {
	if a.System || a.may(pod.Tenant) {
		return nil
	}
	return model.Errorf(model.CodeForbidden, "tenant", "pod %s is not a pod of tenant %q; use the token of the pod's tenant", pod.UID, a.Tenant)
}
