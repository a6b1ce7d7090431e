// Package memstore is an in-memory manager.Store: a faithful fake of the store port, with fault
// knobs, for tests and the simulator.
//
// It keeps the port's promises as the etcd adapter does: at most one live term among all clients of
// one store, a fence so that no write of an ended term lands, writes applied in the order they were
// submitted, a bounded queue whose Reserve fails at once when full, contexts honoured by Campaign and
// Load. Faults are set on the store: an outage (SetDown), a failing write (FailWrite), a failing
// resignation (FailResign), slowness (SetSlow: writes wait until Flush or TimeOut), and a lost term
// (LoseTerm, as when an etcd session expires).
//
// It starts no goroutine and reads no clock. Unless SetSlow is on, every write lands or fails inside
// Submit, so a Manager over it can be driven step by step on one goroutine.
package memstore

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/manager"
)

var (
	_ manager.Store = (*Store)(nil)
	_ manager.Term  = (*Term)(nil)
	_ manager.Slot  = (*slot)(nil)
	_ manager.Write = (*write)(nil)
)

// ErrInjected is the error of an injected fault.
var ErrInjected = errors.New("memstore: injected fault")

// ErrTimeout is the error of writes that TimeOut fails, as a store's write timeout would.
var ErrTimeout = errors.New("memstore: the write timed out")

// ErrSessionLost is why a term ended by LoseTerm (an expired session) refuses what follows.
var ErrSessionLost = errLost

// Errors that end a term.
var (
	errLost     = fmt.Errorf("%w: memstore: the term's session was lost", manager.ErrNotLeader)
	errResigned = fmt.Errorf("%w: memstore: resigned", manager.ErrNotLeader)
)

// DefaultQueueSize is the write queue's size unless SetQueueSize changes it.
const DefaultQueueSize = 4096

// backend is the data and the election that every client of one store shares.
type backend struct {
	mu        sync.Mutex
	cond      *sync.Cond // signalled when held writes change, for WaitHeld
	data      map[string][]byte
	leader    *Term // the newest term; it leads while it has not ended
	terms     int64 // terms started, the fence of the next one
	queueSize int
	queued    int      // reserved slots plus held writes
	held      []*write // writes waiting for Flush or TimeOut (slow mode), in order

	down       bool
	slow       bool
	unfenced   bool   // a planted bug's switch: writes of an ended term land
	failIn     int    // fail the write this many writes from now (1 = next); 0 = never
	failKey    string // fail the next write of this key; "" = none
	failResign int    // fail this many Resigns from now
	writes     int    // mutations applied
	batches    int    // commands applied
}

// Store is one client of the in-memory store: one manager's connection to it. Peer returns another
// client of the same data, as a second manager would have.
type Store struct{ b *backend }

// New returns an empty store.
func New() *Store {
	b := &backend{data: map[string][]byte{}, queueSize: DefaultQueueSize}
	b.cond = sync.NewCond(&b.mu)
	return &Store{b: b}
}

// Peer returns another client of the same store: it campaigns against s.
func (s *Store) Peer() *Store { return &Store{b: s.b} }

// SetDown makes Campaign, Load and every write fail (an outage) until SetDown(false). A write that
// fails ends its term.
func (s *Store) SetDown(down bool) { s.b.with(func(b *backend) { b.down = down }) }

// FailWrite makes the n-th write from now fail without landing (n >= 1); its term ends.
func (s *Store) FailWrite(n int) { s.b.with(func(b *backend) { b.failIn = n }) }

// FailWriteOf makes the next write that puts or deletes key fail without landing; its term ends,
// and every later write of the term fails with it.
func (s *Store) FailWriteOf(key string) { s.b.with(func(b *backend) { b.failKey = key }) }

// FailResign makes the next n Resigns fail; the term still ends, as it does on etcd.
func (s *Store) FailResign(n int) { s.b.with(func(b *backend) { b.failResign = n }) }

// SetQueueSize bounds the write queue: reserved slots plus held writes. n < 1 means 1.
func (s *Store) SetQueueSize(n int) { s.b.with(func(b *backend) { b.queueSize = max(n, 1) }) }

// SetUnfenced makes the store stop fencing (true): a term that ended can still reserve and write.
// It is a planted bug's switch for the simulator, never a behaviour to rely on.
func (s *Store) SetUnfenced(on bool) { s.b.with(func(b *backend) { b.unfenced = on }) }

// SetSlow holds every write from now on until Flush or TimeOut, as a slow store would. Wait blocks
// meanwhile; a caller on one goroutine watches Write.Done (manager.Op.Done) instead and completes
// the writes as a step. SetSlow(false) does not release the writes already held.
func (s *Store) SetSlow(slow bool) { s.b.with(func(b *backend) { b.slow = slow }) }

// Flush applies the held writes in order, as the store catching up would: each lands if its term
// still leads, and fails with an error matching manager.ErrNotLeader if not.
func (s *Store) Flush() {
	s.b.with(func(b *backend) {
		held := b.held
		b.held = nil
		for _, w := range held {
			b.queued--
			w.finish(b.land(w))
		}
		b.cond.Broadcast()
	})
}

// TimeOut fails every held write with ErrTimeout and ends their terms, as a store's write timeout
// would. If landed, the writes land all the same (the store applied them after all): the fake then
// holds a record the manager was told failed, which is what a real timeout allows.
func (s *Store) TimeOut(landed bool) {
	s.b.with(func(b *backend) {
		held := b.held
		b.held = nil
		for _, w := range held {
			b.queued--
			if landed && w.term.err == nil {
				b.put(w.muts)
			}
			w.term.endLocked(b, ErrTimeout)
			w.finish(ErrTimeout)
		}
		b.cond.Broadcast()
	})
}

// WaitHeld blocks until at least n writes are held (slow mode): a test's synchronisation point,
// not a sleep.
func (s *Store) WaitHeld(n int) {
	b := s.b
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.held) < n {
		b.cond.Wait()
	}
}

// Held returns how many writes are held.
func (s *Store) Held() int {
	var n int
	s.b.with(func(b *backend) { n = len(b.held) })
	return n
}

// LoseTerm ends the term that leads now, as an expired session does; another client may then win.
// It returns false if no term leads.
func (s *Store) LoseTerm() bool {
	var ok bool
	s.b.with(func(b *backend) {
		if t := b.leader; t != nil && t.err == nil {
			t.endLocked(b, errLost)
			ok = true
		}
	})
	return ok
}

// Len returns the number of records.
func (s *Store) Len() int {
	var n int
	s.b.with(func(b *backend) { n = len(b.data) })
	return n
}

// Records returns every record, sorted by key, whoever leads: a test's view behind the port.
func (s *Store) Records() []alloc.Record {
	var recs []alloc.Record
	s.b.with(func(b *backend) { recs = b.snapshot() })
	return recs
}

func (b *backend) with(fn func(b *backend)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	fn(b)
}

func (b *backend) snapshot() []alloc.Record {
	keys := make([]string, 0, len(b.data))
	for k := range b.data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	recs := make([]alloc.Record, len(keys))
	for i, k := range keys {
		recs[i] = alloc.Record{Key: k, Value: append([]byte{}, b.data[k]...)}
	}
	return recs
}

func (b *backend) put(muts []alloc.Mutation) {
	b.batches++
	for _, m := range muts {
		b.writes++
		if m.Delete() {
			delete(b.data, m.Key)
		} else {
			b.data[m.Key] = append([]byte{}, m.Value...)
		}
	}
}

// land writes w if its term still leads (the fence) and no fault says otherwise.
func (b *backend) land(w *write) error {
	t := w.term
	if t.err != nil && !b.unfenced {
		return t.err
	}
	fail := b.down
	if b.failIn > 0 {
		b.failIn--
		fail = fail || b.failIn == 0
	}
	if b.failKey != "" {
		for _, m := range w.muts {
			if m.Key == b.failKey {
				fail, b.failKey = true, ""
				break
			}
		}
	}
	if fail {
		err := fmt.Errorf("memstore: writing a command failed; the term is over: %w", ErrInjected)
		t.endLocked(b, err)
		return err
	}
	b.put(w.muts)
	return nil
}
