// Package monitor is knitter-monitor's shell: it watches pods, nodes, namespaces and
// NetworkAttachmentDefinitions through client-go informers, allocates every pod's ports in the
// manager as soon as the pod is created (before kubelet's CNI ADD), releases them by UID when the pod
// is gone, writes the pod's network-status annotation once the agent has bound its ports, and runs
// core/reconcile periodically as a safety net.
//
// The informer handlers only enqueue keys; rate-limited workqueues feed the level-triggered sync
// handlers SyncPod, SyncNode and Reconcile, which read the informer caches, compare them with the
// manager and act. The handlers run on the caller's goroutine and read time from the Clock port, so
// tests and the simulator drive them step by step; Run wraps them in workers for production.
package monitor
