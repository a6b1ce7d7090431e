package netlinkdp

import (
	"github.com/knitter-cni/knitter/adapters/vlanbpf"
	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/model"
)

// Datapaths says, for each network type, how this dataplane builds it on this node and why, and
// whether the node can build it at all. The VLAN datapath's probe loads its programs, so it runs
// once per Dataplane.
func (d *Dataplane) Datapaths() []wire.Datapath {
	d.probeOnce.Do(func() { d.vlanProbe = vlanbpf.Probe() })
	vlan := wire.Datapath{Type: string(model.VLAN), Datapath: "tc-ebpf",
		Why: "802.1Q tags pushed and popped by TCX programs on the pod veths and the trunk: one trunk NIC carries every VLAN, with no 802.1Q module or VLAN-filtering bridge"}
	if d.vlanProbe != nil {
		vlan.Unavailable = d.vlanProbe.Error()
	}
	sriovDP := wire.Datapath{Type: string(model.SRIOV), Datapath: "vf",
		Why: "a virtual function of the PF moved into the pod, its MAC and VLAN set on the PF"}
	if d.vfs == nil {
		sriovDP.Unavailable = "no VF pool: start knitter-agent with --sriov-sysfs-root"
	}
	return []wire.Datapath{
		{Type: string(model.Overlay), Datapath: "bridge+vxlan",
			Why: "a bridge and a VXLAN device per VNI with static flood entries to the peer VTEPs"},
		vlan,
		{Type: string(model.MACVLAN), Datapath: "macvlan", Why: "a bridge-mode macvlan of the parent NIC, created in the pod"},
		sriovDP,
	}
}
