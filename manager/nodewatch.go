package manager

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// nodeWatch lets agents wait for the node set to change instead of listing it every few seconds,
// and keeps their heartbeats in memory: liveness is not worth a durable write.
type nodeWatch struct {
	mu sync.Mutex
	// act is the activation rev counts in; epoch tells its revisions from another activation's
	// (or another manager's), so that a revision from before a failover never matches.
	act     *activation
	epoch   string
	epochs  uint64
	n       uint64
	changed chan struct{} // closed and replaced at each change
	seen    map[string]time.Time
	// changedAt is the revision number (n) at which each node's record last changed in this epoch;
	// a node missing from it has been as it is since the epoch's first revision.
	changedAt map[string]uint64
	// acks are what each agent's node watches told: the revision it has applied and whether it is
	// watching. They are this process's memory only, kept across activations (liveness is the
	// process's), never a store write. acked is closed and replaced when one changes.
	acks  map[string]*nodeAck
	acked chan struct{}
}

// nodeAck is one agent's node-watch activity as this manager process saw it.
type nodeAck struct {
	epoch    string // the epoch and revision number it has applied; epoch "" = none
	n        uint64
	watching int       // its watches open now
	last     time.Time // when its last watch arrived or ended
}

// AgentLive is how long after its last node watch ended an agent still counts as live to the peer
// gate (WaitPeersApplied). An agent re-watches at once after an answer and within 5 s (its longest
// retry wait) after a failure, so one silent for longer has stopped or cannot reach this manager.
const AgentLive = 10 * time.Second

// revLocked returns the revision of act's node set, starting a new epoch for a new activation.
func (w *nodeWatch) revLocked(act *activation, now time.Time) string {
	if w.act != act {
		w.epochs++
		w.act, w.epoch, w.n = act, fmt.Sprintf("%x-%d", now.UnixNano(), w.epochs), 1
		w.changedAt = map[string]uint64{}
		w.wakeLocked()
	}
	return fmt.Sprintf("%s.%d", w.epoch, w.n)
}

func (w *nodeWatch) wakeLocked() {
	if w.changed != nil {
		close(w.changed)
	}
	w.changed = make(chan struct{})
}

func (w *nodeWatch) ackedLocked() {
	if w.acked != nil {
		close(w.acked)
	}
	w.acked = make(chan struct{})
}

// bump records that act's node set changed, in the records of nodes. The caller holds the
// manager's write lock.
func (w *nodeWatch) bump(act *activation, now time.Time, nodes []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.revLocked(act, now)
	w.n++
	for _, name := range nodes {
		w.changedAt[name] = w.n
	}
	w.wakeLocked()
}

// nodesTouched returns the names of the nodes whose records muts change.
func nodesTouched(muts []alloc.Mutation) []string {
	var out []string
	for _, m := range muts {
		if name, ok := strings.CutPrefix(m.Key, alloc.NodePrefix); ok {
			out = append(out, name)
		}
	}
	return out
}

// watchStart records that node's agent watches again, having applied revision applied ("" or one
// it cannot parse: nothing), and returns the function that records the watch's end.
func (w *nodeWatch) watchStart(node, applied string, now time.Time) (end func(time.Time)) {
	if node == "" {
		return func(time.Time) {}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.acks == nil {
		w.acks = map[string]*nodeAck{}
	}
	a := w.acks[node]
	if a == nil {
		a = &nodeAck{}
		w.acks[node] = a
	}
	a.epoch, a.n = parseRev(applied)
	a.watching++
	a.last = now
	w.ackedLocked()
	return func(at time.Time) {
		w.mu.Lock()
		defer w.mu.Unlock()
		a.watching--
		a.last = at
		w.ackedLocked()
	}
}

// parseRev splits a revision "EPOCH.N"; anything else is no revision (epoch "").
func parseRev(rev string) (epoch string, n uint64) {
	i := strings.LastIndexByte(rev, '.')
	if i <= 0 {
		return "", 0
	}
	n, err := strconv.ParseUint(rev[i+1:], 10, 64)
	if err != nil {
		return "", 0
	}
	return rev[:i], n
}

// heartbeat remembers when node last checked in.
func (w *nodeWatch) heartbeat(node string, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen == nil {
		w.seen = map[string]time.Time{}
	}
	w.seen[node] = now
}

// NodeSeen returns when node's agent last registered or sent a heartbeat to this manager process;
// ok is false if it has not since the process started. Heartbeats are kept in memory only.
func (m *Manager) NodeSeen(node string) (at time.Time, ok bool) {
	m.nodes.mu.Lock()
	defer m.nodes.mu.Unlock()
	at, ok = m.nodes.seen[node]
	return at, ok
}

// WatchNodes returns the registered nodes and the node set's revision as soon as that revision is
// not since (at once for since ""), or, when ctx ends first, changed false, no nodes, and the
// revision since still names. Revisions are opaque; one from another activation or manager never
// matches. A manager that stops serving while waiting answers CodeUnavailable.
//
// node names the watching agent's node and applied the node-set revision it has programmed (both
// may be empty: a watcher that is not an agent); WaitPeersApplied counts on them.
func (m *Manager) WatchNodes(ctx context.Context, node, applied, since string) (nodes []model.Node, rev string, changed bool, err error) {
	end := m.nodes.watchStart(node, applied, m.opts.Now())
	defer func() { end(m.opts.Now()) }()
	for {
		m.mu.RLock()
		act := m.act
		if act == nil {
			why := m.why
			m.mu.RUnlock()
			return nil, "", false, unavailable(why)
		}
		m.nodes.mu.Lock()
		rev = m.nodes.revLocked(act, m.opts.Now())
		wait := m.nodes.changed
		m.nodes.mu.Unlock()
		if rev != since {
			nodes = act.state.Nodes()
			m.mu.RUnlock()
			return nodes, rev, true, nil
		}
		m.mu.RUnlock()
		select {
		case <-wait:
		case <-act.done:
		case <-ctx.Done():
			return nil, rev, false, nil
		}
	}
}

// WaitPeersApplied returns as soon as every live agent — node's own included — has applied a node
// set that holds node's registration as it is now, or when ctx ends (then Behind names those that
// had not, sorted; behind is empty when all had). An agent is live while it watches the node set and for AgentLive after its last watch
// ended; after an activation, a registered node no watch has reached this process from yet counts
// as live (and behind) for AgentLive, so that a restarted manager does not take the agents it has
// not heard from yet for gone. What an agent has applied comes with its watches (WatchNodes'
// applied). Nothing here is a store write. A node that is not registered is CodeNotFound.
func (m *Manager) WaitPeersApplied(ctx context.Context, node string) (behind []string, err error) {
	for {
		m.mu.RLock()
		act := m.act
		if act == nil {
			why := m.why
			m.mu.RUnlock()
			return nil, unavailable(why)
		}
		if _, ok := act.state.Node(node); !ok {
			m.mu.RUnlock()
			return nil, model.Errorf(model.CodeNotFound, "name", "node %q is not registered; register it (PUT /api/v1/nodes/%s) first", node, node)
		}
		now := m.opts.Now()
		w := &m.nodes
		w.mu.Lock()
		w.revLocked(act, now)
		target := max(w.changedAt[node], 1)
		behind = behind[:0]
		// Every ADD that waits here asks: no copy of the node set; the names come in order, so
		// behind is sorted.
		act.state.EachNodeName(func(name string) {
			a := w.acks[name]
			switch {
			case a == nil || a.watching == 0 && a.last.Before(act.at):
				if now.Sub(act.at) > AgentLive {
					return // not heard from since this activation began, long enough: gone
				}
			case a.watching == 0 && now.Sub(a.last) > AgentLive:
				return // stopped watching: gone
			case a.epoch == w.epoch && a.n >= target:
				return // applied
			}
			behind = append(behind, name)
		})
		if w.acked == nil {
			w.ackedLocked()
		}
		wait := w.acked
		w.mu.Unlock()
		m.mu.RUnlock()
		if len(behind) == 0 {
			return nil, nil
		}
		select {
		case <-wait:
		case <-act.done:
		case <-ctx.Done():
			m.opts.Metrics.peerGateTimedOut()
			m.log.Warn("agents have not applied a node's registration in time; its pods may lose their first packets to theirs",
				"node", node, "behind", behind)
			return behind, nil
		}
	}
}
