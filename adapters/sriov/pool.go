package sriov

import (
	"fmt"
	"net"
	"sort"
	"sync"

	"github.com/knitter-cni/knitter/core/model"
)

// Options configure a Pool.
type Options struct {
	// Root is the sysfs mount point; empty means "/sys".
	Root string
	// RecordFile keeps the allocation record across restarts; empty keeps it in memory only.
	RecordFile string
}

// Pool hands each VF to at most one owner at a time. It is safe for concurrent use.
type Pool struct {
	root string
	file string

	mu   sync.Mutex
	held map[string]VF // owner -> VF, Netdev being the VF's original name
}

// NewPool returns a pool over opts.Root, loading opts.RecordFile when it exists.
func NewPool(opts Options) (*Pool, error) {
	p := &Pool{root: opts.Root, file: opts.RecordFile, held: map[string]VF{}}
	if p.root == "" {
		p.root = "/sys"
	}
	if p.file != "" {
		held, err := loadRecord(p.file)
		if err != nil {
			return nil, err
		}
		p.held = held
	}
	return p, nil
}

// Probe reports whether a netdev is in the node's namespace and, if it is, its MAC address.
type Probe func(netdev string) (mac net.HardwareAddr, present bool)

// Take gives owner a free VF of pf and records it with its netdev's MAC (the one Release's caller
// restores); probe tells whether a netdev is in the node's namespace, so that a VF still sitting in
// some pod is never handed out. Taking again for the same owner returns the VF it holds. When no VF
// is free the error has code CodeExhausted.
func (p *Pool) Take(pf, owner string, probe Probe) (VF, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if vf, ok := p.held[owner]; ok {
		if vf.PF != pf {
			return VF{}, model.Errorf(model.CodeConflict, "uplink", "%s already holds VF %d of PF %s, not of %s; detach it first", owner, vf.Index, vf.PF, pf)
		}
		return vf, nil
	}
	vfs, err := p.List(pf)
	if err != nil {
		return VF{}, err
	}
	inUse := map[string]bool{}
	for _, vf := range p.held {
		inUse[vf.PCI] = true
	}
	var busy, absent int
	for _, vf := range vfs {
		switch {
		case inUse[vf.PCI]:
			busy++
		case vf.Netdev == "":
			absent++
		default:
			mac, present := probe(vf.Netdev)
			if !present {
				absent++
				continue
			}
			if len(mac) > 0 {
				vf.MAC = mac.String()
			}
			p.held[owner] = vf
			if err := p.save(); err != nil {
				delete(p.held, owner)
				return VF{}, err
			}
			return vf, nil
		}
	}
	return VF{}, model.Errorf(model.CodeExhausted, "uplink",
		"PF %s has no free VF: %d enabled, %d held by pods, %d not in the node's namespace; enable more in sriov_numvfs or detach a pod", pf, len(vfs), busy, absent)
}

// Held returns the VF owner holds, if any.
func (p *Pool) Held(owner string) (VF, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	vf, ok := p.held[owner]
	return vf, ok
}

// Release forgets owner's VF; releasing an owner without one is a no-op.
func (p *Pool) Release(owner string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	vf, ok := p.held[owner]
	if !ok {
		return nil
	}
	delete(p.held, owner)
	if err := p.save(); err != nil {
		p.held[owner] = vf
		return err
	}
	return nil
}

// Owners returns the owners holding a VF, sorted.
func (p *Pool) Owners() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.held))
	for o := range p.held {
		out = append(out, o)
	}
	sort.Strings(out)
	return out
}

func (p *Pool) save() error {
	if p.file == "" {
		return nil
	}
	if err := saveRecord(p.file, p.held); err != nil {
		return fmt.Errorf("saving the VF allocation record: %w", err)
	}
	return nil
}
