package vlanbpf

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// Probe reports why this kernel cannot run the datapath, nil when it can: it loads both programs
// against small unpinned maps (so the verifier and every helper they call are checked) and queries
// the loopback's TCX ingress, which changes nothing. It needs the privileges the agent has.
func Probe() error {
	var maps []*ebpf.Map
	defer func() {
		for _, m := range maps {
			m.Close()
		}
	}()
	for _, spec := range mapSpecs {
		s := spec.Copy()
		s.Pinning, s.MaxEntries = ebpf.PinNone, 1
		m, err := ebpf.NewMap(s)
		if err != nil {
			return fmt.Errorf("creating a BPF hash map (CONFIG_BPF_SYSCALL; the agent needs CAP_BPF and CAP_NET_ADMIN): %w", err)
		}
		maps = append(maps, m)
	}
	port, err := newProgram("knvl_port", portProgram(maps[0].FD(), maps[1].FD(), maps[2].FD()))
	if err != nil {
		return err
	}
	port.Close()
	trunk, err := newProgram("knvl_trunk", trunkProgram(maps[1].FD(), maps[2].FD()))
	if err != nil {
		return err
	}
	trunk.Close()
	if _, err := link.QueryPrograms(link.QueryOptions{Target: 1, Attach: ebpf.AttachTCXIngress}); err != nil {
		return fmt.Errorf("this kernel has no TCX (Linux 6.6+): %w", err)
	}
	return nil
}
