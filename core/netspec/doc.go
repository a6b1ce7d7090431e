// Package netspec turns what a pod asks for — its k8s.v1.cni.cncf.io/networks (NPWG) and Knitter
// "networks" annotations — into one normalized, validated list of model.AttachRequest.
//
// Parse is the entry point. It reads Knitter's ports first and the NPWG attachments after them, then
// Normalize applies the pod-level rules:
//   - Knitter's annotation lists the pod's whole NIC set, as it did in the original Knitter; its
//     unnamed ports become eth0, eth1, …
//   - the NPWG annotation lists additional networks: the tenant's default network is prepended as
//     eth0 unless a request already is eth0 (or there is no default network), and unnamed
//     attachments become net1, net2, …
//   - no annotation at all means the default network as eth0;
//   - interface names are unique, and exactly one interface carries the default route.
//
// Parsing is strict on purpose: an annotation is typed by hand, and a typo that is silently ignored
// ("interfce", a stray space in "eth0 ") gives a pod the wrong network with no hint why. Unknown
// keys are errors, except NPWG keys with a period, which the spec leaves to other implementations.
// Every error is a *model.Error of CodeInvalid whose Field names the annotation and the element
// (annotations["networks"].ports[1].attributes.ip_addr) and whose message says how to fix it.
//
// The package is pure: no I/O, and the same annotations always give the same requests.
package netspec
