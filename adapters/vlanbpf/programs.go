package vlanbpf

import (
	"encoding/binary"

	"github.com/cilium/ebpf/asm"
)

// Return codes of a direct-action tc program (TCX uses the same numbers).
const (
	actNext     = -1 // TC_ACT_UNSPEC, TCX_NEXT: not ours, let the next program or the stack have it
	actDrop     = 2  // TC_ACT_SHOT
	actRedirect = 7  // TC_ACT_REDIRECT
)

// MaxPortsPerVLAN bounds the local pods of one VLAN on one trunk: the flood loop is unrolled by the
// verifier up to this many slots.
const MaxPortsPerVLAN = 128

// Offsets in struct __sk_buff (include/uapi/linux/bpf.h).
const (
	skbProtocol    = 16
	skbVlanPresent = 20
	skbVlanTCI     = 24
	skbIfindex     = 40
)

// EtherTypes of VLAN tags, as the kernel stores them (network byte order in the low 16 bits).
var (
	ethP8021Q  = htons(0x8100)
	ethP8021AD = htons(0x88a8)
)

// Stack layout shared by both programs: the fdb key (trunk u32, vid u16, MAC [6]) at fp-16 and the
// flood key (trunk u32, vid u16, slot u16) at fp-24; fp-32 is scratch for a TCI read from the frame.
const (
	fdbKeyOff   = -16
	fdbMACOff   = -10
	floodKeyOff = -24
	floodSlot   = -18
	scratchOff  = -32
)

// Registers kept across helper calls (r6-r9 are callee-saved).
const (
	rCtx   = asm.R6
	rTrunk = asm.R7
	rVID   = asm.R8
	rSlot  = asm.R9
)

func htons(v uint16) int32 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return int32(binary.NativeEndian.Uint16(b[:]))
}

// loadDstMAC copies the frame's destination MAC into the fdb key; a short frame is dropped.
func loadDstMAC() asm.Instructions {
	return asm.Instructions{
		asm.Mov.Reg(asm.R1, rCtx),
		asm.Mov.Imm(asm.R2, 0),
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, fdbMACOff),
		asm.Mov.Imm(asm.R4, 6),
		asm.FnSkbLoadBytes.Call(),
		asm.JNE.Imm(asm.R0, 0, "drop"),
	}
}

// keys writes rTrunk and rVID into both keys on the stack.
func keys() asm.Instructions {
	return asm.Instructions{
		asm.StoreMem(asm.RFP, fdbKeyOff, rTrunk, asm.Word),
		asm.StoreMem(asm.RFP, fdbKeyOff+4, rVID, asm.Half),
		asm.StoreMem(asm.RFP, floodKeyOff, rTrunk, asm.Word),
		asm.StoreMem(asm.RFP, floodKeyOff+4, rVID, asm.Half),
	}
}

// lookupFDB looks the fdb key up; r0 is the entry or 0.
func lookupFDB(fdb int) asm.Instructions {
	return asm.Instructions{
		asm.LoadMapPtr(asm.R1, fdb),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, fdbKeyOff),
		asm.FnMapLookupElem.Call(),
	}
}

// floodLoop copies the frame to every port of the VLAN's flood slots (skipping the ingress device,
// so a pod never gets its own broadcast back) and jumps to done after the last one.
func floodLoop(flood int, prefix, done string) asm.Instructions {
	loop, next := prefix+"_loop", prefix+"_next"
	return asm.Instructions{
		asm.Mov.Imm(rSlot, 0),
		asm.JGE.Imm(rSlot, MaxPortsPerVLAN, done).WithSymbol(loop),
		asm.StoreMem(asm.RFP, floodSlot, rSlot, asm.Half),
		asm.LoadMapPtr(asm.R1, flood),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, floodKeyOff),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, done),
		asm.Add.Imm(rSlot, 1),
		asm.LoadMem(asm.R2, asm.R0, 0, asm.Word),
		asm.LoadMem(asm.R3, rCtx, skbIfindex, asm.Word),
		asm.JEq.Reg(asm.R2, asm.R3, loop),
		asm.Mov.Reg(asm.R1, rCtx),
		asm.Mov.Imm(asm.R3, 0), // to the port's egress: into its pod
		asm.FnCloneRedirect.Call(),
		asm.Ja.Label(loop).WithSymbol(next),
	}
}

// portProgram is attached to the ingress of a pod veth's node end.
func portProgram(ports, fdb, flood int) asm.Instructions {
	insns := asm.Instructions{
		asm.Mov.Reg(rCtx, asm.R1),
		// A pod never sends tagged frames: the tag is the network's, not the pod's.
		asm.LoadMem(asm.R2, rCtx, skbVlanPresent, asm.Word),
		asm.JNE.Imm(asm.R2, 0, "drop"),
		asm.LoadMem(asm.R2, rCtx, skbProtocol, asm.Word),
		asm.JEq.Imm(asm.R2, ethP8021Q, "drop"),
		asm.JEq.Imm(asm.R2, ethP8021AD, "drop"),
		// Which trunk and VLAN is this port on? A device that is not a port drops.
		asm.LoadMem(asm.R2, rCtx, skbIfindex, asm.Word),
		asm.StoreMem(asm.RFP, -4, asm.R2, asm.Word),
		asm.LoadMapPtr(asm.R1, ports),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "drop"),
		asm.LoadMem(rTrunk, asm.R0, 0, asm.Word),
		asm.LoadMem(rVID, asm.R0, 4, asm.Half),
	}
	insns = append(insns, keys()...)
	insns = append(insns, loadDstMAC()...)
	insns = append(insns,
		asm.LoadMem(asm.R2, asm.RFP, fdbMACOff, asm.Byte),
		asm.And.Imm(asm.R2, 1),
		asm.JNE.Imm(asm.R2, 0, "flood"),
	)
	// Unicast to a local pod of the VLAN: straight into that pod, never out of the node.
	insns = append(insns, lookupFDB(fdb)...)
	insns = append(insns,
		asm.JEq.Imm(asm.R0, 0, "uplink"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.Word),
		asm.Mov.Imm(asm.R2, 0),
		asm.FnRedirectPeer.Call(),
		asm.Return(),
	)
	fl := floodLoop(flood, "flood", "uplink")
	fl[0] = fl[0].WithSymbol("flood")
	insns = append(insns, fl...)
	insns = append(insns,
		// Tag it and send it out of the trunk.
		asm.Mov.Reg(asm.R1, rCtx).WithSymbol("uplink"),
		asm.Mov.Imm(asm.R2, ethP8021Q),
		asm.Mov.Reg(asm.R3, rVID),
		asm.FnSkbVlanPush.Call(),
		asm.JNE.Imm(asm.R0, 0, "drop"),
		asm.Mov.Reg(asm.R1, rTrunk),
		asm.Mov.Imm(asm.R2, 0),
		asm.FnRedirect.Call(),
		asm.Return(),
		asm.Mov.Imm(asm.R0, actDrop).WithSymbol("drop"),
		asm.Return(),
	)
	return insns
}

// trunkProgram is attached to the ingress of the trunk NIC.
func trunkProgram(fdb, flood int) asm.Instructions {
	insns := asm.Instructions{
		asm.Mov.Reg(rCtx, asm.R1),
		// The tag is in the skb's metadata: the kernel untags received frames before tc runs.
		asm.LoadMem(asm.R2, rCtx, skbVlanPresent, asm.Word),
		asm.JEq.Imm(asm.R2, 0, "inframe"),
		asm.LoadMem(rVID, rCtx, skbVlanTCI, asm.Word),
		asm.Ja.Label("tagged"),
		// A frame that still carries its tag (none reach tc this way from a NIC, but a program
		// test run does): read the TCI from the frame.
		asm.LoadMem(asm.R2, rCtx, skbProtocol, asm.Word).WithSymbol("inframe"),
		asm.JNE.Imm(asm.R2, ethP8021Q, "next"),
		asm.Mov.Reg(asm.R1, rCtx),
		asm.Mov.Imm(asm.R2, 14),
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, scratchOff),
		asm.Mov.Imm(asm.R4, 2),
		asm.FnSkbLoadBytes.Call(),
		asm.JNE.Imm(asm.R0, 0, "next"),
		asm.LoadMem(rVID, asm.RFP, scratchOff, asm.Half),
		asm.HostTo(asm.BE, rVID, asm.Half),
		asm.And.Imm(rVID, 0xfff).WithSymbol("tagged"),
		asm.LoadMem(rTrunk, rCtx, skbIfindex, asm.Word),
	}
	insns = append(insns, keys()...)
	insns = append(insns,
		// A VLAN without local pods is not ours.
		asm.StoreImm(asm.RFP, floodSlot, 0, asm.Half),
		asm.LoadMapPtr(asm.R1, flood),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, floodKeyOff),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "next"),
		asm.Mov.Reg(asm.R1, rCtx),
		asm.FnSkbVlanPop.Call(),
		asm.JNE.Imm(asm.R0, 0, "drop"),
		// A second (stacked) tag is now in the metadata: not for a pod.
		asm.LoadMem(asm.R2, rCtx, skbVlanPresent, asm.Word),
		asm.JNE.Imm(asm.R2, 0, "drop"),
	)
	insns = append(insns, loadDstMAC()...)
	insns = append(insns,
		asm.LoadMem(asm.R2, asm.RFP, fdbMACOff, asm.Byte),
		asm.And.Imm(asm.R2, 1),
		asm.JNE.Imm(asm.R2, 0, "flood"),
	)
	insns = append(insns, lookupFDB(fdb)...)
	insns = append(insns,
		asm.JEq.Imm(asm.R0, 0, "drop"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.Word),
		asm.Mov.Imm(asm.R2, 0),
		asm.FnRedirectPeer.Call(),
		asm.Return(),
	)
	fl := floodLoop(flood, "flood", "drop")
	fl[0] = fl[0].WithSymbol("flood")
	insns = append(insns, fl...)
	insns = append(insns,
		asm.Mov.Imm(asm.R0, actNext).WithSymbol("next"),
		asm.Return(),
		asm.Mov.Imm(asm.R0, actDrop).WithSymbol("drop"),
		asm.Return(),
	)
	return insns
}
