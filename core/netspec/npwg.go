package netspec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/knitter-cni/knitter/core/model"
)

// npwgKeys are the keys the NPWG spec defines for an element of the JSON list form, in the spec's
// order. Keys with a period are other implementations' extensions (the spec reserves every key
// without one), so they are skipped rather than rejected.
var npwgKeys = []string{"name", "namespace", "ips", "mac", "infiniband-guid", "interface", "portMappings", "bandwidth", "default-route", "cni-args"}

// ParseNPWG parses the value of the k8s.v1.cni.cncf.io/networks annotation, in either of the spec's
// forms: comma-separated references ("net-a, other-ns/net-b@net2") or a JSON list of objects. It
// returns the raw requests in the order written, without defaults: unnamed interfaces stay unnamed
// and no default route is chosen. An element without a namespace belongs to podNamespace.
func ParseNPWG(value, podNamespace string) ([]model.AttachRequest, error) {
	if err := checkSize(NPWGAnnotation, value); err != nil {
		return nil, err
	}
	v := strings.TrimSpace(value)
	if v != "" && podNamespace != "" {
		// The pod's namespace becomes the tenant of every element that names none.
		if err := model.ValidateName("pod_namespace", podNamespace); err != nil {
			return nil, err
		}
	}
	reqs, err := parseNPWG(v, podNamespace)
	if err != nil {
		return nil, model.Prefix(annotationField(NPWGAnnotation), err)
	}
	return reqs, nil
}

func parseNPWG(v, ns string) ([]model.AttachRequest, error) {
	switch {
	case v == "":
		return nil, nil
	case v[0] == '[':
		return parseNPWGJSON(v, ns)
	case v[0] == '{':
		return nil, model.Invalid("", "is a single JSON object; the JSON form is a list, so wrap it in [ ]")
	}
	return parseNPWGCSV(v, ns)
}

// tooMany is the error for the first element past the limit.
func tooMany(field string, i int) error {
	return model.Invalid(field, "is attachment %d; a pod may have at most %d interfaces, so drop some", i+1, MaxAttachments)
}

func parseNPWGCSV(v, ns string) ([]model.AttachRequest, error) {
	var out []model.AttachRequest
	for i, e := range strings.Split(v, ",") {
		f := fmt.Sprintf("[%d]", i)
		if i >= MaxAttachments {
			return nil, tooMany(f, i)
		}
		r, err := parseCSVElement(strings.TrimSpace(e), ns)
		if err != nil {
			return nil, model.Prefix(f, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// parseCSVElement parses "name", "ns/name", "name@ifname" or "ns/name@ifname".
func parseCSVElement(e, podNS string) (model.AttachRequest, error) {
	var r model.AttachRequest
	if e == "" {
		return r, model.Invalid("", "is empty; remove the extra comma")
	}
	ref, ifname, hasIf := strings.Cut(e, "@")
	if hasIf {
		switch {
		case strings.Contains(ifname, "@"):
			return r, model.Invalid("interface", "%q has more than one '@'; write namespace/name@interface", e)
		case ifname == "":
			return r, model.Invalid("interface", "is empty after '@' in %q; give a name such as \"net1\" or drop the '@'", e)
		}
		if err := validateInterface("interface", ifname); err != nil {
			return r, err
		}
	}
	ns, name, hasNS := strings.Cut(ref, "/")
	if !hasNS {
		ns, name = "", ref
	}
	switch {
	case strings.Contains(name, "/"):
		return r, model.Invalid("name", "%q has more than one '/'; write namespace/name", e)
	case hasNS && ns == "":
		return r, model.Invalid("namespace", "is empty before '/' in %q; give the namespace or drop the '/'", e)
	case name == "":
		return r, model.Invalid("name", "is empty in %q; give the network's name, e.g. \"net-a\"", e)
	}
	if hasNS {
		if err := model.ValidateName("namespace", ns); err != nil {
			return r, err
		}
	} else {
		ns = podNS
	}
	if err := model.ValidateName("name", name); err != nil {
		return r, err
	}
	r.Network, r.Tenant, r.Interface = name, ns, ifname
	return r, nil
}

func parseNPWGJSON(v, ns string) ([]model.AttachRequest, error) {
	raw, err := parseJSON(v)
	if err != nil {
		return nil, err
	}
	elems, err := list(raw, `[{"name": "net-a", "interface": "net1"}]`)
	if err != nil {
		return nil, err
	}
	out := make([]model.AttachRequest, 0, min(len(elems), MaxAttachments))
	for i, e := range elems {
		f := fmt.Sprintf("[%d]", i)
		if i >= MaxAttachments {
			return nil, tooMany(f, i)
		}
		r, err := parseNPWGElement(e, ns)
		if err != nil {
			return nil, model.Prefix(f, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// parseNPWGElement parses one object of the JSON list form.
func parseNPWGElement(e json.RawMessage, podNS string) (model.AttachRequest, error) {
	var r model.AttachRequest
	ms, err := members(e, `{"name": "net-a"}`)
	if err != nil {
		return r, err
	}
	r.Tenant = podNS
	for _, m := range ms {
		if err := setNPWGKey(&r, m); err != nil {
			return model.AttachRequest{}, err
		}
	}
	if r.Network == "" {
		return r, model.Invalid("name", "is missing; every element needs the network's name, e.g. {\"name\": \"net-a\"}")
	}
	return r, nil
}

// setNPWGKey applies one key of an NPWG element to r.
func setNPWGKey(r *model.AttachRequest, m member) error {
	var err error
	switch m.key {
	case "name":
		if r.Network, err = str("name", m.val, "net-a"); err == nil && r.Network != "" {
			err = model.ValidateName("name", r.Network)
		}
	case "namespace":
		var ns string
		if ns, err = str("namespace", m.val, "my-namespace"); err == nil && ns != "" {
			err = model.ValidateName("namespace", ns)
			r.Tenant = ns
		}
	case "interface":
		if r.Interface, err = str("interface", m.val, "net1"); err == nil && r.Interface != "" {
			err = validateInterface("interface", r.Interface)
		}
	case "ips":
		r.IPs, r.IPPrefixes, err = npwgIPs(m.val)
	case "mac":
		r.MAC, err = parseMACField("mac", m.val)
	case "default-route":
		r.Gateways, err = npwgDefaultRoute(m.val)
		r.DefaultRoute = len(r.Gateways) > 0
	case "cni-args":
		r.CNIArgs, err = cniArgs(m.val)
	case "infiniband-guid", "portMappings", "bandwidth":
		err = model.Invalid(keyField(m.key), "is an NPWG key Knitter does not support; remove it")
	default:
		if !strings.Contains(m.key, ".") {
			err = unknownKey(m.key, "an NPWG network selection key", npwgKeys)
		}
	}
	return err
}

// npwgIPs parses the "ips" list: addresses or address/prefix, at most one per family. The
// addresses given with a prefix are also returned with it, for the manager to check against the
// network's subnet.
func npwgIPs(raw json.RawMessage) ([]netip.Addr, []netip.Prefix, error) {
	ss, err := strList("ips", raw, `["10.1.1.5/24", "fd00::5"]`)
	if err != nil || len(ss) == 0 {
		return nil, nil, err
	}
	ips := make([]netip.Addr, len(ss))
	var prefixes []netip.Prefix
	for i, s := range ss {
		if ips[i], err = parseStaticIP(fmt.Sprintf("ips[%d]", i), s, true); err != nil {
			return nil, nil, err
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			prefixes = append(prefixes, p)
		}
	}
	return ips, prefixes, checkFamilies("ips", ips)
}

// npwgDefaultRoute parses "default-route": the gateways of the pod's default route. A non-empty list
// makes this attachment carry the default route; the manager checks each gateway against the
// interface's subnet.
func npwgDefaultRoute(raw json.RawMessage) ([]netip.Addr, error) {
	ss, err := strList("default-route", raw, `["10.1.1.1"]`)
	if err != nil {
		return nil, err
	}
	var gws []netip.Addr
	for i, s := range ss {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return nil, model.Invalid(fmt.Sprintf("default-route[%d]", i), "%q is not a gateway address; give one such as \"10.1.1.1\"", s)
		}
		gws = append(gws, a)
	}
	return gws, nil
}

// parseMACField parses a requested MAC address, which must be one a NIC can have.
func parseMACField(field string, raw json.RawMessage) (model.MAC, error) {
	s, err := str(field, raw, "02:00:00:00:00:01")
	if err != nil || s == "" {
		return model.MAC{}, err
	}
	mac, err := model.ParseMAC(s)
	if err != nil {
		return model.MAC{}, model.Invalid(field, "%v", err)
	}
	if !mac.Unicast() {
		return model.MAC{}, model.Invalid(field, "%s is not a unicast address; give one whose first byte is even, such as \"02:00:00:00:00:01\"", mac)
	}
	return mac, nil
}

// cniArgs checks that "cni-args" is an object and returns it as compact JSON text for the agent.
func cniArgs(raw json.RawMessage) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	ms, err := members(raw, `{"key": "value"}`)
	if err != nil || len(ms) == 0 {
		return "", model.Prefix("cni-args", err)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "", model.Invalid("cni-args", "is not valid JSON (%v)", err)
	}
	return b.String(), nil
}
