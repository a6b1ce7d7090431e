// Package memstore is an in-memory manager.Store with fault injection, for tests and the simulator.
package memstore

import (
	"context"
	"errors"
	"sort"
	"sync"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/manager"
)

var _ manager.Store = (*Store)(nil)

// ErrInjected is the error of an injected fault.
var ErrInjected = errors.New("memstore: injected fault")

// Store holds records in a map. Writes apply in Submit order; Wait reports the outcome.
type Store struct {
	mu      sync.Mutex
	data    map[string][]byte
	down    bool
	failIn  int // fail the write this many writes from now (1 = next); 0 = never
	writes  int
	batches int
}

// New returns an empty store.
func New() *Store { return &Store{data: map[string][]byte{}} }

// SetDown makes every Load and Submit fail (an outage) until SetDown(false).
func (s *Store) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// FailWrite makes the n-th write from now fail without landing (n >= 1).
func (s *Store) FailWrite(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failIn = n
}

// Load implements manager.Store.
func (s *Store) Load(ctx context.Context) ([]alloc.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, ErrInjected
	}
	keys := make([]string, 0, len(s.data))
	for k := range s.data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	recs := make([]alloc.Record, len(keys))
	for i, k := range keys {
		recs[i] = alloc.Record{Key: k, Value: s.data[k]}
	}
	return recs, nil
}

// Submit implements manager.Store: the write is applied (or fails) at once.
func (s *Store) Submit(ctx context.Context, muts []alloc.Mutation) (manager.Waiter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, ErrInjected
	}
	s.batches++
	if s.failIn > 0 {
		s.failIn--
		if s.failIn == 0 {
			return result{ErrInjected}, nil
		}
	}
	for _, m := range muts {
		s.writes++
		if m.Delete() {
			delete(s.data, m.Key)
		} else {
			s.data[m.Key] = append([]byte(nil), m.Value...)
		}
	}
	return result{}, nil
}

// Len returns the number of records.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.data)
}

type result struct{ err error }

func (r result) Wait(context.Context) error { return r.err }
