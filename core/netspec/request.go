package netspec

import (
	"encoding/json"
	"fmt"

	"github.com/knitter-cni/knitter/core/model"
)

// validateRequest checks one request's own fields. The parsers check the same while parsing; this
// covers requests built by other means (the REST API, tests) before they are normalized.
func validateRequest(o origin, r *model.AttachRequest) error {
	if err := model.ValidateName(o.field("network"), r.Network); err != nil {
		return err
	}
	if r.Tenant != "" {
		if err := model.ValidateName(o.field("tenant"), r.Tenant); err != nil {
			return err
		}
	}
	if r.Interface != "" {
		if err := validateInterface(o.field("interface"), r.Interface); err != nil {
			return err
		}
	}
	ips := o.field("ips")
	for i, a := range r.IPs {
		if err := checkStaticIP(fmt.Sprintf("%s[%d]", ips, i), a); err != nil {
			return err
		}
	}
	if err := checkFamilies(ips, r.IPs); err != nil {
		return err
	}
	if !r.MAC.IsZero() && !r.MAC.Unicast() {
		return model.Invalid(o.field("mac"), "%s is not a unicast address; give one whose first byte is even, such as \"02:00:00:00:00:01\"", r.MAC)
	}
	if r.IPGroup != "" {
		if err := model.ValidateName(o.field("ip_group"), r.IPGroup); err != nil {
			return err
		}
		if len(r.IPs) > 0 {
			return model.Invalid(o.field("ip_group"), "is given with a static address %s; the address comes from one or the other, so drop one", r.IPs[0])
		}
	}
	if r.Function != "" && !contains(functions, r.Function) {
		return model.Invalid(o.field("function"), "%q is not one of %v; use one of those (or leave it empty for std)", r.Function, functions)
	}
	if r.NICType != "" && !contains(nicTypes, r.NICType) {
		return model.Invalid(o.field("nic_type"), "%q is not one of %v; use one of those (or leave it empty for normal)", r.NICType, nicTypes)
	}
	if r.CNIArgs != "" {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(r.CNIArgs), &obj); err != nil || obj == nil {
			return model.Invalid(o.field("cni_args"), "must be a JSON object such as {\"key\": \"value\"}")
		}
	}
	return nil
}
