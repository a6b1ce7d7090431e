// Package agent is knitter-agent's shell: it turns the plugin's CNI calls into the core planner's
// decisions and the Dataplane's actions, and keeps a crash-safe checkpoint of every attachment.
//
// An ADD reads the pod (PodSource), binds it to this node with one call to the manager
// (ManagerClient.BindPod, which answers with its ports and their networks; the pod is allocated first,
// with the same idempotent call the monitor uses, when the monitor has not yet), asks core/plan for the
// links, writes the checkpoint and builds the links (Dataplane). The
// checkpoint is written before anything is built, so a DEL — which reads nothing but the checkpoint —
// can undo any ADD, even one cut short by a crash, with the manager and the API server down.
//
// Every step is a method that returns when it is done (Add, Del, Check, GC, Reconcile, Heartbeat,
// PollPeers): tests and the simulator drive the agent step by step with fakes on one goroutine;
// Server and Run wrap the same methods in a unix-socket server and timed loops for production.
package agent
