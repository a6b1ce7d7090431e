package sim

import (
	"math/rand/v2"
	"slices"

	"github.com/knitter-cni/knitter/agent"
)

// PeerRTT bounds, in virtual ms, the time from a node-watch answer to the agent's next watch
// reaching the manager (and from a change to a waiting watch's answer reaching the agent): each is
// a seeded 1-PeerRTT ms.
const PeerRTT = 5

// peerSync runs the agents' node watches in a scale run as agent.Run's loop does — the next watch
// right after an unchanged answer and agent.DefaultPeerBatch after a changed one, held by the
// manager until the node set changes — on the caller's goroutine:
// a watch that arrives while the set is what the agent last got waits in the held list; the
// next change answers every held watch. The node set changes only when a node registers for the
// first time (a heartbeat of an unchanged node writes nothing).
type peerSync struct {
	w    *World
	ns   *nodes
	res  *ScaleResult
	rng  *rand.Rand
	gen  int   // node-set changes so far
	got  []int // per agent: the gen its last answer carried; -1 before the first
	reg  []bool
	held []int // agents whose watch waits for a change
}

func newPeerSync(w *World, ns *nodes, res *ScaleResult) *peerSync {
	p := &peerSync{w: w, ns: ns, res: res, rng: w.Rand("peers"), got: make([]int, len(ns.list)), reg: make([]bool, len(ns.list))}
	for i := range p.got {
		p.got[i] = -1
	}
	return p
}

func (p *peerSync) rtt() int64 { return 1 + p.rng.Int64N(PeerRTT) }

// registered is told of node i's successful heartbeat; the first starts its agent's watch loop.
func (p *peerSync) registered(i int) {
	if p.reg[i] {
		return
	}
	p.reg[i] = true
	p.gen++
	held := p.held
	p.held = nil
	for _, j := range held {
		p.w.After(p.rtt(), "peers", func() { p.poll(j) })
	}
	p.w.After(p.rtt(), "peers", func() { p.poll(i) })
}

// poll is agent i's watch answered: PollPeers, then its next watch.
func (p *peerSync) poll(i int) {
	a := p.ns.list[i].agent
	changed := p.got[i] != p.gen
	if err := a.PollPeers(contextBG); err != nil {
		p.w.Record("peers %d: %v", i, err)
		p.w.After(50, "peers", func() { p.poll(i) }) // agent.Run's first retry
		return
	}
	p.res.Polls++
	if changed {
		p.res.Lists++
		p.res.ListedNodes += p.gen
	}
	p.got[i] = p.gen
	next := p.rtt()
	if changed {
		next += agent.DefaultPeerBatch.Milliseconds()
	}
	p.w.After(next, "peers", func() { p.watch(i) })
}

// watch is agent i's next watch reaching the manager: answered at once if the set changed since
// its last answer, held otherwise.
func (p *peerSync) watch(i int) {
	if p.got[i] != p.gen {
		p.w.After(p.rtt(), "peers", func() { p.poll(i) }) // the answer's way back
		return
	}
	p.held = append(p.held, i)
}

// check requires every VXLAN device on every node to flood to exactly the other nodes' VTEPs.
func (p *peerSync) check(c *checker) {
	n := len(p.ns.list)
	for i, nd := range p.ns.list {
		for _, l := range nd.dp.Links("") {
			if l.Kind != "vxlan" {
				continue
			}
			p.res.FloodDevices++
			if len(l.FDB) != n-1 || slices.Contains(l.FDB, vtep(i)) {
				c.fail(Safety, "peers-programmed", "%s's %s floods to %d VTEPs; want the %d other nodes'", nd.name, l.Name, len(l.FDB), n-1)
				return
			}
		}
	}
}
