// Package reconcile is knitter-monitor's garbage collector as a pure decision: given what the
// manager holds (every pod with ports), what the Kubernetes API holds (the informers' pods and
// nodes) and a timestamp, Plan returns the pods whose ports must be released and why.
//
// It does no I/O and reads no clock. The monitor calls it periodically with its informer caches, so a
// full pass costs no API request beyond one list of the manager's ports. A pod the informer does not
// have is only a suspect at first: it is released at the first pass at least OrphanGrace after it
// was first seen missing, which keeps the monitor from freeing a pod that the agent allocated moments
// before the informer heard of it. The event path (a pod's delete) releases at once; this pass is the
// safety net for deletes the monitor missed (it was down, a watch was dropped).
package reconcile
