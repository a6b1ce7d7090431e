package vlanbpf

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// portValue is a ports map value: the trunk, VLAN and pod MAC of a pod veth (the key, its node
// end's ifindex).
type portValue struct {
	Trunk uint32
	VID   uint16
	MAC   [6]byte
}

// fdbKey keys the fdb map; its value is the pod veth's node-end ifindex.
type fdbKey struct {
	Trunk uint32
	VID   uint16
	MAC   [6]byte
}

// floodKey keys the flood map; its value is a pod veth's node-end ifindex. A VLAN's slots on a
// trunk are 0..n-1 with no holes, so the programs stop at the first missing one.
type floodKey struct {
	Trunk uint32
	VID   uint16
	Slot  uint16
}

// Map sizes: ports and fdb entries per node, flood slots per node.
const maxEntries = 16384

var mapSpecs = []*ebpf.MapSpec{
	{Name: "knvl_ports", Type: ebpf.Hash, KeySize: 4, ValueSize: 12, MaxEntries: maxEntries, Pinning: ebpf.PinByName},
	{Name: "knvl_fdb", Type: ebpf.Hash, KeySize: 12, ValueSize: 4, MaxEntries: maxEntries, Pinning: ebpf.PinByName},
	{Name: "knvl_flood", Type: ebpf.Hash, KeySize: 8, ValueSize: 4, MaxEntries: maxEntries, Pinning: ebpf.PinByName},
}

// state is the loaded datapath of one node: its maps (pinned in dir) and programs.
type state struct {
	dir                 string
	ports, fdb, flood   *ebpf.Map
	portProg, trunkProg *ebpf.Program
}

// pinned reports whether dir holds the maps of a datapath that is running.
func pinned(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, mapSpecs[0].Name))
	return err == nil
}

// load opens the pinned maps in dir, creating and pinning them if missing, and loads the programs.
func load(dir string) (s *state, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating bpffs directory %s: %w", dir, err)
	}
	s = &state{dir: dir}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	ms := make([]*ebpf.Map, len(mapSpecs))
	for i, spec := range mapSpecs {
		m, err := ebpf.NewMapWithOptions(spec, ebpf.MapOptions{PinPath: dir})
		if err != nil {
			return s, fmt.Errorf("creating map %s in %s: %w (a map of another layout is pinned there: remove the directory after moving the node's vlan pods away)", spec.Name, dir, err)
		}
		ms[i] = m
	}
	s.ports, s.fdb, s.flood = ms[0], ms[1], ms[2]
	if s.portProg, err = newProgram("knvl_port", portProgram(s.ports.FD(), s.fdb.FD(), s.flood.FD())); err != nil {
		return s, err
	}
	if s.trunkProg, err = newProgram("knvl_trunk", trunkProgram(s.fdb.FD(), s.flood.FD())); err != nil {
		return s, err
	}
	return s, nil
}

func newProgram(name string, insns asm.Instructions) (*ebpf.Program, error) {
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: name, Type: ebpf.SchedCLS, Instructions: insns, License: "GPL"})
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("loading program %s: %+v", name, ve)
		}
		return nil, fmt.Errorf("loading program %s (the kernel needs BPF and SCHED_CLS programs; CONFIG_BPF_SYSCALL, CONFIG_NET_CLS_BPF): %w", name, err)
	}
	return p, nil
}

// close releases the process's handles; pinned maps and links stay.
func (s *state) close() {
	for _, c := range []interface{ Close() error }{s.portProg, s.trunkProg, s.ports, s.fdb, s.flood} {
		if c != nil && !isNilCloser(c) {
			_ = c.Close()
		}
	}
}

func isNilCloser(c interface{ Close() error }) bool {
	switch v := c.(type) {
	case *ebpf.Map:
		return v == nil
	case *ebpf.Program:
		return v == nil
	}
	return false
}

// remove unpins the maps and removes dir: the node has no vlan ports left.
func (s *state) remove() error {
	var errs []error
	for _, m := range []*ebpf.Map{s.ports, s.fdb, s.flood} {
		if m != nil {
			if err := m.Unpin(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	s.close()
	if err := os.RemoveAll(s.dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func macOf(hw net.HardwareAddr) (m [6]byte) {
	copy(m[:], hw)
	return m
}
