package sim

import (
	"container/heap"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"time"
)

// World is the simulated universe: a virtual clock in milliseconds, one event queue ordered by
// (time, sequence) and a random source per subsystem, all derived from one seed. It is not safe for
// concurrent use: everything runs on the caller's goroutine.
type World struct {
	seed  uint64
	now   int64 // virtual milliseconds since the start
	seq   uint64
	queue eventHeap
	trace hash.Hash
	steps int
	// log keeps the trace lines when non-nil (--trace).
	log     []string
	keepLog bool
	buf     []byte // recordEvent's line
}

// Epoch is the wall-clock instant virtual time 0 maps to; the manager sees Epoch plus the virtual time.
var Epoch = time.UnixMilli(1_750_000_000_000).UTC()

// NewWorld returns an empty world for seed.
func NewWorld(seed uint64) *World {
	return &World{seed: seed, trace: sha256.New()}
}

// Rand returns the random source of one subsystem: its stream depends only on the seed and the name,
// so adding draws in one subsystem does not shift another's.
func (w *World) Rand(subsystem string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(subsystem))
	return rand.New(rand.NewPCG(w.seed, h.Sum64()))
}

// Now returns the virtual time in milliseconds.
func (w *World) Now() int64 { return w.now }

// Clock returns the virtual time as a wall-clock time, for the shells' Now options.
func (w *World) Clock() time.Time { return Epoch.Add(time.Duration(w.now) * time.Millisecond) }

// At schedules fn at virtual time at (never earlier than now). Events at the same time run in the
// order they were scheduled.
func (w *World) At(at int64, name string, fn func()) {
	w.seq++
	heap.Push(&w.queue, &event{at: max(at, w.now), seq: w.seq, name: name, fn: fn})
}

// After schedules fn d milliseconds from now.
func (w *World) After(d int64, name string, fn func()) { w.At(w.now+d, name, fn) }

// Step runs the next event, advancing the clock to its time. It returns false when the queue is
// empty or the next event is after until.
func (w *World) Step(until int64) bool {
	if len(w.queue) == 0 || w.queue[0].at > until {
		return false
	}
	e := heap.Pop(&w.queue).(*event)
	w.now = e.at
	w.steps++
	w.recordEvent(e)
	e.fn()
	return true
}

// Drop removes every pending event.
func (w *World) Drop() { w.queue = w.queue[:0] }

// Record adds a line to the trace hash (and to the kept log).
func (w *World) Record(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	w.trace.Write([]byte(line))
	w.trace.Write([]byte{'\n'})
	if w.keepLog {
		w.log = append(w.log, line)
	}
}

// recordEvent adds the line Record("%d #%d %s", e.at, e.seq, e.name) would, without fmt: it runs
// at every step.
func (w *World) recordEvent(e *event) {
	b := strconv.AppendInt(w.buf[:0], e.at, 10)
	b = append(b, " #"...)
	b = strconv.AppendUint(b, e.seq, 10)
	b = append(b, ' ')
	b = append(b, e.name...)
	if w.keepLog {
		w.log = append(w.log, string(b))
	}
	b = append(b, '\n')
	w.trace.Write(b)
	w.buf = b
}

// Hash returns the trace hash so far.
func (w *World) Hash() string { return hex.EncodeToString(w.trace.Sum(nil))[:16] }

// Steps returns how many events ran.
func (w *World) Steps() int { return w.steps }

type event struct {
	at   int64
	seq  uint64
	name string
	fn   func()
}

type eventHeap []*event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(*event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
