// Package plan turns a pod's ports into the exact links knitter-agent builds: every name, MAC, MTU,
// address, route, bridge, VXLAN device and VLAN tag, decided here and nowhere else. The result, a
// Pod, is what the dataplane executes and what the agent checkpoints, so a CNI DEL can undo an ADD
// from the checkpoint alone.
//
// Plan is pure: the same node, ports and networks always give the same Pod, byte for byte.
package plan
