package manager

import (
	"context"
	"fmt"
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
}

// revLocked returns the revision of act's node set, starting a new epoch for a new activation.
func (w *nodeWatch) revLocked(act *activation, now time.Time) string {
	if w.act != act {
		w.epochs++
		w.act, w.epoch, w.n = act, fmt.Sprintf("%x-%d", now.UnixNano(), w.epochs), 1
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

// bump records that act's node set changed. The caller holds the manager's write lock.
func (w *nodeWatch) bump(act *activation, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.revLocked(act, now)
	w.n++
	w.wakeLocked()
}

// touchesNodes reports whether muts change a node record.
func touchesNodes(muts []alloc.Mutation) bool {
	for _, m := range muts {
		if strings.HasPrefix(m.Key, alloc.NodePrefix) {
			return true
		}
	}
	return false
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
func (m *Manager) WatchNodes(ctx context.Context, since string) (nodes []model.Node, rev string, changed bool, err error) {
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
