package httpapi

import (
	"fmt"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// Reading rules. The core checks every change; its single-object getters take no actor, so the
// server decides what a caller may read, with the same rules as the core's lists: admins and system
// actors read everything, a tenant reads its own objects and the public networks.

// sees reports whether a may read tenant's objects.
func sees(a alloc.Actor, tenant string) bool { return a.Admin || a.System || a.Tenant == tenant }

// mustSee refuses a caller that may not read tenant's objects.
func mustSee(a alloc.Actor, tenant string) error {
	if sees(a, tenant) {
		return nil
	}
	return model.Errorf(model.CodeForbidden, "tenant", "tenant %q may not read tenant %q's objects; use that tenant's token or an admin token", a.Tenant, tenant)
}

// mustSeeInfra refuses tenants: nodes (underlay addresses) are for admins, agents and the monitor.
func mustSeeInfra(a alloc.Actor) error {
	if a.Admin || a.System {
		return nil
	}
	return model.Errorf(model.CodeForbidden, "", "only admin and system tokens may read nodes")
}

// mustBeAdmin refuses everyone but admins.
func mustBeAdmin(a alloc.Actor, what string) error {
	if a.Admin {
		return nil
	}
	return model.Errorf(model.CodeForbidden, "", "only an admin may %s", what)
}

// view runs fn on the backend's state; a backend that cannot serve reads is "unavailable".
func (s *Server) view(fn func(st *alloc.State) error) error {
	var ferr error
	if err := s.b.View(func(st *alloc.State) { ferr = fn(st) }); err != nil {
		if !isUnavailable(err) {
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return err
	}
	return ferr
}

// pathMatch checks that a name given in the body agrees with the one in the path, and fills it in
// when the body left it out.
func pathMatch(field string, body *string, path string) error {
	switch *body {
	case "":
		*body = path
	case path:
	default:
		return model.Invalid(field, "is %q but the URL names %q; leave it out or make them agree", *body, path)
	}
	return nil
}

func notFound(field, format string, args ...any) error {
	return model.Errorf(model.CodeNotFound, field, format, args...)
}
