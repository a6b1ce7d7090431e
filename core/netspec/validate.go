package netspec

import (
	"fmt"

	"github.com/knitter-cni/knitter/core/model"
)

// Validate checks a list that should already be normalized, such as the requests in a REST body
// sent by the monitor: at most MaxAttachments, every request's own fields, every interface named
// and unique, and exactly one default route when the list is not empty. field prefixes the errors'
// paths (e.g. "requests"), whose sub-fields use the model's JSON names. An empty list is valid.
func Validate(field string, reqs []model.AttachRequest) error {
	from := make([]origin, len(reqs))
	for i := range from {
		from[i] = origin{path: fmt.Sprintf("%s[%d]", field, i)}
	}
	if len(reqs) > MaxAttachments {
		return tooMany(from[MaxAttachments].path, MaxAttachments)
	}
	owner := make(map[string]int, len(reqs))
	route := -1
	for i := range reqs {
		r := &reqs[i]
		if err := validateRequest(from[i], r); err != nil {
			return err
		}
		if r.Interface == "" {
			return model.Invalid(from[i].field("interface"), "is empty; name every interface (netspec.Normalize does)")
		}
		if j, dup := owner[r.Interface]; dup {
			return model.Invalid(from[i].field("interface"), "%q is also the interface of %s; give each attachment its own name", r.Interface, from[j].path)
		}
		owner[r.Interface] = i
		if r.DefaultRoute {
			if route >= 0 {
				return model.Invalid(from[i].field("default_route"), "is set, and so is %s.default_route; a pod has one default route, so keep it on one attachment", from[route].path)
			}
			route = i
		}
	}
	if route < 0 && len(reqs) > 0 {
		return model.Invalid(field, "no request has default_route; set it on exactly one (usually eth0)")
	}
	return nil
}
