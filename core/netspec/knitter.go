package netspec

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/knitter-cni/knitter/core/model"
)

// Knitter's original port attributes and their values.
var (
	knitterTopKeys  = []string{"ports"}
	knitterPortKeys = []string{"attach_to_network", "attributes"}
	knitterAttrKeys = []string{"nic_name", "function", "nic_type", "accelerate", "ip_addr", "ip_group_name", "combinable", "metadata"}
	// Functions are the port roles of the original Knitter; "" means std.
	functions = []string{"std", "control", "media", "oam", "eio"}
	// NIC types of the original Knitter; "" means normal.
	nicTypes = []string{"normal", "direct", "physical"}
)

const knitterExample = `{"ports": [{"attach_to_network": "net_api", "attributes": {"nic_name": "eth1"}}]}`

// ParseKnitter parses the value of Knitter's original "networks" annotation,
// {"ports": [{"attach_to_network": ..., "attributes": {...}}]}. It returns the raw requests in port
// order, without defaults: unnamed ports stay unnamed and no default route is chosen. Tenant is left
// empty (the pod's tenant, then the public networks), as in the original Knitter. Function and
// NICType keep what was written; "" means std and normal.
func ParseKnitter(value string) ([]model.AttachRequest, error) {
	if err := checkSize(KnitterAnnotation, value); err != nil {
		return nil, err
	}
	reqs, err := parseKnitter(strings.TrimSpace(value))
	if err != nil {
		return nil, model.Prefix(annotationField(KnitterAnnotation), err)
	}
	return reqs, nil
}

func parseKnitter(v string) ([]model.AttachRequest, error) {
	if v == "" {
		return nil, nil
	}
	raw, err := parseJSON(v)
	if err != nil {
		return nil, err
	}
	ms, err := members(raw, knitterExample)
	if err != nil {
		return nil, err
	}
	var ports json.RawMessage
	for _, m := range ms {
		if m.key != "ports" {
			return nil, unknownKey(m.key, "a key of Knitter's networks annotation", knitterTopKeys)
		}
		ports = m.val
	}
	if ports == nil {
		return nil, model.Invalid("ports", "is missing; list the pod's interfaces as %s", knitterExample)
	}
	elems, err := list(ports, `[{"attach_to_network": "net_api"}]`)
	if err != nil {
		return nil, model.Prefix("ports", err)
	}
	if len(elems) == 0 {
		// The original Knitter refused a pod whose annotation lists no port: the annotation is the
		// pod's whole NIC set, and an empty set is a mistake, not "use the defaults".
		return nil, model.Invalid("ports", "is empty; list at least one interface as %s, or remove the annotation to get the tenant's default network", knitterExample)
	}
	out := make([]model.AttachRequest, 0, min(len(elems), MaxAttachments))
	for i, e := range elems {
		f := fmt.Sprintf("ports[%d]", i)
		if i >= MaxAttachments {
			return nil, tooMany(f, i)
		}
		r, err := parseKnitterPort(e)
		if err != nil {
			return nil, model.Prefix(f, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// parseKnitterPort parses one element of "ports".
func parseKnitterPort(e json.RawMessage) (model.AttachRequest, error) {
	var r model.AttachRequest
	ms, err := members(e, `{"attach_to_network": "net_api", "attributes": {"nic_name": "eth1"}}`)
	if err != nil {
		return r, err
	}
	for _, m := range ms {
		switch m.key {
		case "attach_to_network":
			if r.Network, err = str(m.key, m.val, "net_api"); err == nil && r.Network != "" {
				err = model.ValidateName(m.key, r.Network)
			}
		case "attributes":
			if err = parseAttributes(&r, m.val); err != nil {
				err = model.Prefix("attributes", err)
			}
		default:
			err = unknownKey(m.key, "a key of a Knitter port", knitterPortKeys)
		}
		if err != nil {
			return model.AttachRequest{}, err
		}
	}
	if r.Network == "" {
		return r, model.Invalid("attach_to_network", "is missing; name the network this port attaches to, e.g. \"net_api\"")
	}
	return r, nil
}

// parseAttributes applies a port's "attributes" object to r.
func parseAttributes(r *model.AttachRequest, raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	ms, err := members(raw, `{"nic_name": "eth1", "function": "std"}`)
	if err != nil {
		return err
	}
	var ipField string // which attribute set the address, for the ip_addr/ip_group_name conflict
	for _, m := range ms {
		switch m.key {
		case "nic_name":
			if r.Interface, err = str(m.key, m.val, "eth1"); err == nil && r.Interface != "" {
				err = validateInterface(m.key, r.Interface)
			}
		case "function":
			r.Function, err = enum(m.key, m.val, functions)
		case "nic_type":
			r.NICType, err = enum(m.key, m.val, nicTypes)
		case "accelerate":
			r.Accelerate, err = flag(m.key, m.val)
		case "combinable":
			// Validated so that a typo'd value is caught, but the model has no place for it.
			_, err = flag(m.key, m.val)
		case "ip_addr":
			r.IPs, err = knitterIP(m.val)
			if len(r.IPs) > 0 {
				ipField = m.key
			}
		case "ip_group_name":
			if r.IPGroup, err = str(m.key, m.val, "group-a"); err == nil && r.IPGroup != "" {
				err = model.ValidateName(m.key, r.IPGroup)
			}
		case "metadata":
			r.Metadata, err = metadata(m.val)
		default:
			err = unknownKey(m.key, "a Knitter port attribute", knitterAttrKeys)
		}
		if err != nil {
			return err
		}
	}
	if ipField != "" && r.IPGroup != "" {
		return model.Invalid("ip_group_name", "is given with ip_addr %s; the address comes from one or the other, so drop one", r.IPs[0])
	}
	return nil
}

// enum decodes a string attribute that must be one of values ("" allowed: the first value).
func enum(field string, raw json.RawMessage, values []string) (string, error) {
	s, err := str(field, raw, values[0])
	if err != nil {
		return "", err
	}
	if s == "" || contains(values, s) {
		return s, nil
	}
	if l := strings.ToLower(s); contains(values, l) {
		return "", model.Invalid(field, "%q has upper-case letters; use %q", s, l)
	}
	return "", model.Invalid(field, "%q is not one of %s; use one of those (or leave it empty for %s)", s, strings.Join(values, ", "), values[0])
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// knitterIP parses "ip_addr": one address, or "" for none.
func knitterIP(raw json.RawMessage) ([]netip.Addr, error) {
	s, err := str("ip_addr", raw, "10.1.1.5")
	if err != nil || s == "" {
		return nil, err
	}
	a, err := parseStaticIP("ip_addr", s, false)
	if err != nil {
		return nil, err
	}
	return []netip.Addr{a}, nil
}

// metadata decodes the string-to-string "metadata" attribute; an empty object is none.
func metadata(raw json.RawMessage) (map[string]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	ms, err := members(raw, `{"key": "value"}`)
	if err != nil {
		return nil, model.Prefix("metadata", err)
	}
	if len(ms) == 0 {
		return nil, nil
	}
	md := make(map[string]string, len(ms))
	for _, m := range ms {
		f := "metadata" + "[" + fmt.Sprintf("%q", m.key) + "]"
		if m.key == "" {
			return nil, model.Invalid(f, "has an empty key; give every metadata entry a name")
		}
		var s string
		if err := json.Unmarshal(m.val, &s); err != nil || isNull(m.val) {
			return nil, model.Invalid(f, "is %s; metadata values are strings, so quote it", clip(m.val))
		}
		md[m.key] = s
	}
	return md, nil
}
