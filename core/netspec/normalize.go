package netspec

import (
	"cmp"
	"fmt"

	"github.com/knitter-cni/knitter/core/model"
)

// Normalize turns raw requests into the pod's interface list. reqs[:npwgStart] came from Knitter's
// annotation and reqs[npwgStart:] from the NPWG annotation. It
//   - checks every request (names, addresses, attribute values) and the limit of MaxAttachments;
//   - prepends the tenant's default network as eth0 when the pod has no Knitter ports (which list the
//     full NIC set) and no request is already eth0; with no request at all and no default network it
//     fails with a message that says how to fix that;
//   - names unnamed interfaces: Knitter ports eth0, eth1, …, NPWG attachments net1, net2, …, each
//     skipping names already taken, and rejects duplicate names;
//   - picks the one default route: an explicit one (DefaultRoute set) wins, two are an error, and
//     with none eth0 (or else the first interface) gets it.
//
// The input is not modified. Normalizing a normalized list with npwgStart = len(list) returns it
// unchanged. npwgStart outside [0, len(reqs)] is a programming error and panics.
func Normalize(reqs []model.AttachRequest, opts Options, npwgStart int) ([]model.AttachRequest, error) {
	if npwgStart < 0 || npwgStart > len(reqs) {
		panic(fmt.Sprintf("netspec.Normalize: npwgStart %d outside [0, %d]", npwgStart, len(reqs)))
	}
	out := append([]model.AttachRequest(nil), reqs...)
	from := origins(len(out), npwgStart)
	if len(out) > MaxAttachments {
		return nil, tooMany(from[MaxAttachments].path, MaxAttachments)
	}
	for i := range out {
		if err := validateRequest(from[i], &out[i]); err != nil {
			return nil, err
		}
	}
	out, from, err := addDefault(out, from, opts, npwgStart)
	if err != nil {
		return nil, err
	}
	if err := nameInterfaces(out, from); err != nil {
		return nil, err
	}
	if err := pickDefaultRoute(out, from); err != nil {
		return nil, err
	}
	return out, nil
}

// addDefault prepends the tenant's default network as eth0 where the rules call for it.
func addDefault(reqs []model.AttachRequest, from []origin, opts Options, npwgStart int) ([]model.AttachRequest, []origin, error) {
	if npwgStart > 0 {
		return reqs, from, nil // Knitter's ports are the pod's whole NIC set, as in the original Knitter
	}
	for _, r := range reqs {
		if r.Interface == "eth0" {
			return reqs, from, nil
		}
	}
	if opts.DefaultNetwork == "" {
		if len(reqs) > 0 {
			return reqs, from, nil // the additional networks only: eth0 is some other plugin's
		}
		return nil, nil, model.Invalid("annotations", "namespace %q has no default network and the pod asks for none; set default_network on tenant %q, or annotate the pod with %s: net-a (or Knitter's %q annotation)",
			opts.PodNamespace, cmp.Or(opts.Tenant, opts.PodNamespace), NPWGAnnotation, KnitterAnnotation)
	}
	if err := model.ValidateName("default_network", opts.DefaultNetwork); err != nil {
		return nil, nil, err
	}
	if len(reqs) >= MaxAttachments {
		return nil, nil, model.Invalid(from[len(from)-1].path, "is attachment %d, and the default network as eth0 makes %d; a pod may have at most %d interfaces, so drop one or name one of them eth0",
			len(reqs), len(reqs)+1, MaxAttachments)
	}
	def := model.AttachRequest{Network: opts.DefaultNetwork, Interface: "eth0"}
	return append([]model.AttachRequest{def}, reqs...), append([]origin{{path: "default_network"}}, from...), nil
}

// nameInterfaces rejects duplicate names and names the unnamed interfaces in place.
func nameInterfaces(reqs []model.AttachRequest, from []origin) error {
	owner := make(map[string]int, len(reqs))
	taken := make(map[string]bool, len(reqs))
	for i, r := range reqs {
		if r.Interface == "" {
			continue
		}
		if j, dup := owner[r.Interface]; dup {
			return model.Invalid(from[i].field("interface"), "%q is also the interface of %s; give each attachment its own name", r.Interface, from[j].path)
		}
		owner[r.Interface], taken[r.Interface] = i, true
	}
	eth := namer{prefix: "eth", next: 0, taken: taken}
	net := namer{prefix: "net", next: 1, taken: taken}
	for i := range reqs {
		if reqs[i].Interface != "" {
			continue
		}
		if from[i].knitter {
			reqs[i].Interface = eth.name()
		} else {
			reqs[i].Interface = net.name()
		}
	}
	return nil
}

// pickDefaultRoute leaves exactly one request with DefaultRoute (none if there are no requests).
func pickDefaultRoute(reqs []model.AttachRequest, from []origin) error {
	chosen := -1
	for i, r := range reqs {
		if !r.DefaultRoute {
			continue
		}
		if chosen >= 0 {
			return model.Invalid(from[i].field("default_route"), "asks for the default route, and so does %s; a pod has one default route, so keep it on one attachment", from[chosen].path)
		}
		chosen = i
	}
	if chosen >= 0 || len(reqs) == 0 {
		return nil
	}
	chosen = 0
	for i, r := range reqs {
		if r.Interface == "eth0" {
			chosen = i
			break
		}
	}
	reqs[chosen].DefaultRoute = true
	return nil
}
