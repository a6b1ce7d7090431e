package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/fakes/fakemanager"
	"github.com/knitter-cni/knitter/monitor"
)

// Network faults between components (Config.NetFaults, with Faults): every link a call crosses —
// each node's agent to the manager, the workload's own calls without nodes, the monitor to the
// manager, each manager process to the store — gets a delay distribution and a loss rate of its
// own, drawn from the seed, and a partition process cuts seeded sets of links for a while, several
// at once. The calls are in-process and atomic (one goroutine), so a delay is the time a call
// takes to be made: the pod sync or heartbeat that makes it runs that much later, which reorders it
// against everything else; a lost request fails the call before it reaches the manager, a lost
// answer fails it after the manager applied it (never for a release, see lose). The liveness phase
// heals every link.

// link is one path between two components.
type link struct {
	name string
	// base and tail shape the delay (virtual ms): base plus an exponential tail of mean tail,
	// capped at maxDelay.
	base, tail int64
	loss       float64 // the chance that a request or its answer is lost
	cuts       int     // partitions cutting it now
}

// maxDelay caps one call's delay on a link.
const maxDelay = 2_000

// links are a run's links and the random sources of their faults.
type links struct {
	w      *World
	st     *Stats
	rng    *rand.Rand // per-message draws
	agents []*link    // by node index (joined nodes get theirs when they join)
	direct *link      // the workload's calls without nodes
	mon    *link
	stores []*link // by manager slot
	mk     *rand.Rand
	healed bool
	active int // partitions in force
}

func newLinks(w *World, st *Stats, managers int) *links {
	l := &links{w: w, st: st, rng: w.Rand("net-loss"), mk: w.Rand("net-links")}
	l.direct = l.newLink("workload")
	l.mon = l.newLink("monitor")
	for i := range managers {
		l.stores = append(l.stores, l.newLink(fmt.Sprintf("store-%d", i+1)))
	}
	return l
}

// newLink draws a link's delay distribution and loss: base 1-10 ms, tail mean 2-40 ms, loss 0-4%.
func (l *links) newLink(name string) *link {
	k := &link{name: name, base: 1 + l.mk.Int64N(10), tail: 2 + l.mk.Int64N(39), loss: float64(l.mk.IntN(5)) / 100}
	l.w.Record("link %s delay %d+exp(%d)ms loss %.2f", name, k.base, k.tail, k.loss)
	return k
}

// agent returns node i's link, making it when the node is new.
func (l *links) agent(i int) *link {
	for len(l.agents) <= i {
		l.agents = append(l.agents, l.newLink(fmt.Sprintf("agent-%d", len(l.agents)+1)))
	}
	return l.agents[i]
}

// delay draws one call's delay on k.
func (l *links) delay(k *link) int64 {
	if l.healed {
		return 0
	}
	return min(maxDelay, k.base+int64(l.rng.ExpFloat64()*float64(k.tail)))
}

// lose reports whether a message on k is lost: every one while a partition cuts it, else with
// its loss rate.
func (l *links) lose(k *link) bool {
	if l.healed || k.cuts == 0 && (k.loss == 0 || l.rng.Float64() >= k.loss) {
		return false
	}
	l.st.MessagesLost++
	return true
}

// lostErr is a call whose request or answer the network lost, as the caller's timeout reports it
// (transient to the agent and to the monitor).
func lostErr(k *link, what string) error {
	return fmt.Errorf("%w: knitter-manager: %s lost on %s: %w", monitor.ErrUnavailable, what, k.name, context.DeadlineExceeded)
}

// monCall runs one of the monitor's calls over its link; answers reports whether the answer may
// be lost too (not a release's: the invariants count a cooldown from the acknowledged release).
func (s *system) monCall(what string, answers bool, fn func() error) error {
	l := s.links
	if l == nil {
		return fn()
	}
	if l.lose(l.mon) {
		return lostErr(l.mon, what+" request")
	}
	if err := fn(); err != nil {
		return err
	}
	if answers && l.lose(l.mon) {
		return lostErr(l.mon, what+" answer")
	}
	return nil
}

// heal ends every partition and every loss, for the liveness phase.
func (l *links) heal(sys *system) {
	l.healed = true
	for _, k := range append(append([]*link{l.direct, l.mon}, l.agents...), l.stores...) {
		k.cuts = 0
	}
	for _, p := range sys.procs {
		p.storeCut = false
	}
}

// schedulePartitions cuts, at seeded intervals (mean 5 s) until end, a seeded set of links —
// each standing agent's with odds 1 in 3, the monitor's 1 in 3, each manager's store link 1 in 4 —
// for 1-5 s; partitions overlap when the next comes before the last heals. (The workload's own
// calls without nodes are only delayed.)
func (l *links) schedulePartitions(sys *system, nodes *nodes, monitor bool, end int64, on *bool) {
	rng := l.w.Rand("net-partitions")
	faultProcess(l.w, rng, end, on)("net-partition", 5_000, func(r *rand.Rand) {
		var cut []*link
		var procs []*mgrProc
		if nodes != nil {
			for _, i := range nodes.live() {
				if r.IntN(3) == 0 {
					cut = append(cut, l.agent(i))
				}
			}
		}
		if monitor && r.IntN(3) == 0 {
			cut = append(cut, l.mon)
		}
		for i, p := range sys.procs {
			if r.IntN(4) == 0 {
				cut = append(cut, l.stores[i])
				procs = append(procs, p)
			}
		}
		if len(cut) == 0 {
			return
		}
		d := 1000 + r.Int64N(4000)
		l.active++
		l.st.NetPartitions++
		l.st.MaxOverlap = max(l.st.MaxOverlap, l.active)
		names := ""
		for _, k := range cut {
			k.cuts++
			names += " " + k.name
		}
		l.w.Record("fault net-partition %dms:%s", d, names)
		for _, p := range procs {
			sys.cutStore(p)
		}
		l.w.After(d, "net-heal", func() {
			l.active--
			for _, k := range cut {
				k.cuts = max(0, k.cuts-1)
			}
			for i, p := range sys.procs {
				if l.stores[i].cuts == 0 {
					p.storeCut = false
				}
			}
			l.w.Record("net-partition healed:%s", names)
		})
	})
}

// cutStore cuts manager slot p off the store: its session expires (its keep-alives cannot reach
// the store), it can neither campaign nor write until the link heals; the clients stop following
// it if it led.
func (s *system) cutStore(p *mgrProc) {
	if p.mgr == nil {
		return
	}
	if p.term != nil && p.term.Err() == nil {
		s.store.LoseTerm()
	}
	p.storeCut = true
	if s.leader == p {
		s.mgr, s.leader = nil, nil
		s.notify()
	}
}

// lossyClient is an agent's manager client over its node's link: a lost request fails the call
// before it reaches the manager, a lost answer after it.
type lossyClient struct {
	agent.ManagerClient
	l *links
	k *link
}

// call runs fn over the link.
func (c *lossyClient) call(what string, fn func() error) error {
	if c.l.lose(c.k) {
		return lostErr(c.k, what+" request")
	}
	if err := fn(); err != nil {
		return err
	}
	if c.l.lose(c.k) {
		return lostErr(c.k, what+" answer")
	}
	return nil
}

func (c *lossyClient) Pod(ctx context.Context, uid string) (p model.Pod, err error) {
	err = c.call("pod", func() (e error) { p, e = c.ManagerClient.Pod(ctx, uid); return })
	return
}

func (c *lossyClient) AllocatePod(ctx context.Context, r alloc.PodRequest) (p model.Pod, err error) {
	err = c.call("allocate", func() (e error) { p, e = c.ManagerClient.AllocatePod(ctx, r); return })
	return
}

func (c *lossyClient) BindPod(ctx context.Context, uid, node string) (b agent.Binding, err error) {
	err = c.call("bind", func() (e error) { b, e = c.ManagerClient.BindPod(ctx, uid, node); return })
	return
}

func (c *lossyClient) Tenant(ctx context.Context, name string) (t model.Tenant, err error) {
	err = c.call("tenant", func() (e error) { t, e = c.ManagerClient.Tenant(ctx, name); return })
	return
}

func (c *lossyClient) Network(ctx context.Context, tenant, name string) (n model.Network, err error) {
	err = c.call("network", func() (e error) { n, e = c.ManagerClient.Network(ctx, tenant, name); return })
	return
}

func (c *lossyClient) RegisterNode(ctx context.Context, n model.Node) error {
	return c.call("register", func() error { return c.ManagerClient.RegisterNode(ctx, n) })
}

func (c *lossyClient) WatchNodes(ctx context.Context, node, applied, since string) (s agent.NodeSet, err error) {
	err = c.call("watch", func() (e error) { s, e = c.ManagerClient.WatchNodes(ctx, node, applied, since); return })
	return
}

func (c *lossyClient) WaitPeersApplied(ctx context.Context, node string, wait time.Duration) (s []string, err error) {
	err = c.call("peer gate", func() (e error) { s, e = c.ManagerClient.WaitPeersApplied(ctx, node, wait); return })
	return
}

// wrapLossy makes the agents' clients lossy over their links, over whatever wrap (a plant) makes.
func (l *links) wrapLossy(wrap func(*fakemanager.Client) agent.ManagerClient) func(*fakemanager.Client) agent.ManagerClient {
	n := 0
	return func(c *fakemanager.Client) agent.ManagerClient {
		var mc agent.ManagerClient = c
		if wrap != nil {
			mc = wrap(c)
		}
		k := l.agent(n)
		n++
		return &lossyClient{ManagerClient: mc, l: l, k: k}
	}
}

// linkDelay is, with network faults, the delay of the call p's next sync makes: on its node's
// link, or the workload's own without nodes.
func (wl *workload) linkDelay(p *simPod) int64 {
	l := wl.sys.links
	if l == nil {
		return 0
	}
	if wl.nodes == nil {
		return l.delay(l.direct)
	}
	return l.delay(l.agent(p.node))
}

// heartbeat is every standing node's heartbeat, each reaching the manager after its link's delay.
func (l *links) heartbeat(ns *nodes) {
	for _, i := range ns.live() {
		nd := ns.list[i]
		l.w.After(l.delay(l.agent(i)), "heartbeat "+nd.name, func() {
			if !nd.gone {
				_ = nd.agent.Heartbeat(context.Background())
			}
		})
	}
}
