package alloc

import (
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
}

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
	return nil
}

// Actor is who issues a command. Admins act on every tenant; anyone else only on its own tenant.
// knitter-monitor and knitter-agent act as admins.
type Actor struct {
	Tenant string
	Admin  bool
}

// Admin is the actor of internal callers and the admin token.
var Admin = Actor{Admin: true}

// may reports whether a can act on tenant's objects.
func (a Actor) may(tenant string) bool { return a.Admin || a.Tenant == tenant }

func (a Actor) check(tenant string) error {
	if !a.may(tenant) {
		return model.Errorf(model.CodeForbidden, "tenant", "tenant %q may not act on tenant %q; use that tenant's token or an admin token", a.Tenant, tenant)
	}
	return nil
}
