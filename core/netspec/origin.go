package netspec

import "fmt"

// origin says where a request came from, so that errors name the element the user wrote.
type origin struct {
	path    string            // the element's field path, e.g. annotations["networks"].ports[1]
	knitter bool              // from Knitter's annotation: unnamed ports become eth0, eth1, …
	names   map[string]string // the request's JSON field names as that input spells them
}

// How each input spells the request's fields; a name not listed is spelled as model's JSON name.
var (
	knitterNames = map[string]string{
		"network": "attach_to_network", "interface": "attributes.nic_name", "ips": "attributes.ip_addr",
		"ip_group": "attributes.ip_group_name", "function": "attributes.function", "nic_type": "attributes.nic_type",
		"metadata": "attributes.metadata",
	}
	npwgNames = map[string]string{"network": "name", "tenant": "namespace", "default_route": "default-route", "cni_args": "cni-args"}
)

// field returns the path of one of the request's fields, given by its model JSON name.
func (o origin) field(name string) string {
	if n, ok := o.names[name]; ok {
		name = n
	}
	return o.path + "." + name
}

// origins returns the origin of each of n requests whose first npwgStart came from Knitter's
// annotation and the rest from the NPWG annotation.
func origins(n, npwgStart int) []origin {
	out := make([]origin, n)
	for i := range out {
		if i < npwgStart {
			out[i] = origin{path: fmt.Sprintf("%s.ports[%d]", annotationField(KnitterAnnotation), i), knitter: true, names: knitterNames}
		} else {
			out[i] = origin{path: fmt.Sprintf("%s[%d]", annotationField(NPWGAnnotation), i-npwgStart), names: npwgNames}
		}
	}
	return out
}
