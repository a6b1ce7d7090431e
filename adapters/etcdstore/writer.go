package etcdstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// write is the writer goroutine: it takes whatever is queued, up to MaxBatch commands, cuts it into
// transactions and dispatches them, up to MaxInflight at once, until Close closes the queue; it then
// waits for the transactions in flight, so that queued commands are flushed before Close returns.
//
// Pipelining must not shrink group commit: a transaction that is not full (everything queued fits
// in it) is dispatched only when nothing is in flight. While one is, the writer keeps adding what
// arrives to it, until it is full — then it goes at once, beside the ones in flight — or a
// transaction in flight completes. Several transactions are in flight only when more than one
// transaction's worth of commands is waiting.
func (s *Store) write() {
	defer close(s.writerDone)
	var batch []*Pending
	open := true
	for {
		if len(batch) == 0 {
			p, ok := <-s.queue
			if !ok {
				break
			}
			s.release()
			batch = append(batch, p)
		}
		if open {
			batch, open = s.drain(batch)
		}
		n, full := s.chunk(batch)
		if open && !full && len(batch) < s.cfg.MaxBatch && len(s.inflight) > 0 {
			select {
			case p, ok := <-s.queue:
				if !ok {
					open = false
					continue
				}
				s.release()
				batch = append(batch, p)
			case <-s.completed:
			}
			continue
		}
		s.dispatch(append([]*Pending(nil), batch[:n]...))
		batch = append(batch[:0:0], batch[n:]...)
	}
	for range cap(s.inflight) {
		s.inflight <- struct{}{}
	}
}

// drain appends what is queued now, without waiting, up to MaxBatch commands, and reports whether
// the queue is still open.
func (s *Store) drain(batch []*Pending) ([]*Pending, bool) {
	for len(batch) < s.cfg.MaxBatch {
		select {
		case p, ok := <-s.queue:
			if !ok {
				return batch, false
			}
			s.release()
			batch = append(batch, p)
		default:
			return batch, true
		}
	}
	return batch, true
}

// chunk returns how many leading commands of batch go in one transaction: commands of one term,
// within MaxTxnOps (counting the write sequence's put) and MaxTxnBytes, and always at least one, so
// that a command larger than the limits still goes whole, alone. full reports whether no further
// command could join that transaction.
func (s *Store) chunk(batch []*Pending) (n int, full bool) {
	first := batch[0]
	ops, bytes := first.ops+1, first.bytes
	n = 1
	for ; n < len(batch); n++ {
		p := batch[n]
		if p.term != first.term || ops+p.ops > s.cfg.MaxTxnOps || bytes+p.bytes > s.cfg.MaxTxnBytes {
			return n, true
		}
		ops += p.ops
		bytes += p.bytes
	}
	return n, ops >= s.cfg.MaxTxnOps || bytes >= s.cfg.MaxTxnBytes
}

// txn is one transaction of a term's write pipeline.
type txn struct {
	t    *Term
	cmds []*Pending
	n    int64 // its place in the term's write sequence, from 0
	prev *txn  // the term's transaction before it; nil for the first, and once it is complete
	done chan struct{}
	err  error // written before done is closed
}

// dispatch sends cmds as the term's next transaction on its own goroutine, once fewer than
// MaxInflight are in flight.
func (s *Store) dispatch(cmds []*Pending) {
	t := cmds[0].term
	x := &txn{t: t, cmds: cmds, n: t.next, prev: t.last, done: make(chan struct{})}
	t.next++
	t.last = x
	s.inflight <- struct{}{}
	go s.send(x)
}

// send writes x and completes its commands, in the term's order: after the transaction before it,
// and failed if that one failed, since a command may depend on the commands before it. The first
// failure of a term ends the term, which fails every later transaction of it.
func (s *Store) send(x *txn) {
	err := s.attempt(x)
	if x.prev != nil {
		<-x.prev.done
		if perr := x.prev.err; perr != nil && err == nil {
			// x landed after all, so the earlier transaction had landed too, but its writer was told
			// otherwise and the term is over.
			err = fmt.Errorf("etcdstore: an earlier write of this leadership term failed, so this one is reported failed too, though it may have landed: %w", perr)
		}
		x.prev = nil // let the finished chain be collected
	}
	x.err = err
	s.finish(x.cmds, err)
	close(x.done)
	<-s.inflight
	select {
	case s.completed <- struct{}{}:
	default: // the writer has a wake-up pending already
	}
}

// seqValue is the write sequence's value once n transactions of the term fenced by rev have landed.
func seqValue(rev, n int64) string {
	return strconv.FormatInt(rev, 10) + "/" + strconv.FormatInt(n, 10)
}

// attempt writes x in one transaction fenced on its term and on the term's write sequence: x lands
// only while the term's election key is the one it won with and after every earlier transaction of
// the term (the first has only the fence; its put starts the sequence, which every later one
// needs). A transaction that reached etcd before the one before it fails its sequence check, waits
// for that one, and is sent once more. Any other failure ends the term.
func (s *Store) attempt(x *txn) error {
	t := x.t
	seq := s.cfg.Prefix + seqKey
	ops := append(s.txnOps(x.cmds), clientv3.OpPut(seq, seqValue(t.rev, x.n+1)))
	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(t.key), "=", t.rev)}
	if x.n > 0 {
		cmps = append(cmps, clientv3.Compare(clientv3.Value(seq), "=", seqValue(t.rev, x.n)))
	}
	for retried := false; ; retried = true {
		if cause := t.ended(); cause != nil {
			return notLeader(cause)
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.WriteTimeout)
		resp, err := s.client.Txn(ctx).If(cmps...).Then(ops...).Else(clientv3.OpGet(t.key)).Commit()
		cancel()
		switch {
		case err != nil:
			err = fmt.Errorf("etcdstore: writing %d commands to etcd at %s failed, and they may or may not have landed; this leadership term is over: %w",
				len(x.cmds), strings.Join(s.cfg.Endpoints, ","), err)
			t.end(err)
			// etcd may still apply this transaction later. Its fence must then fail, so the next
			// term must not reuse this term's election key: revoke the session (without holding up
			// the writer), which deletes the key.
			s.forgetSession(t.session)
			go t.session.Close()
			return err
		case resp.Succeeded:
			s.stats.txns.Add(1)
			return nil
		case !fenceHeld(resp, t):
			t.end(errFenced)
			return notLeader(errFenced)
		case x.prev == nil || retried:
			// The fence holds but the sequence is not where the transactions before x left it.
			err := fmt.Errorf("etcdstore: the write sequence at %s is not at %s after the transactions before it; another writer shares this term's fence", seq, seqValue(t.rev, x.n))
			t.end(err)
			return notLeader(err)
		}
		s.stats.reordered.Add(1)
		<-x.prev.done // then the sequence is at x.n, or the term has ended
	}
}

// fenceHeld reports whether the Else branch of a failed transaction found the term's election key
// with the term's create revision.
func fenceHeld(resp *clientv3.TxnResponse, t *Term) bool {
	if len(resp.Responses) == 0 {
		return false
	}
	r := resp.Responses[0].GetResponseRange()
	return r != nil && len(r.Kvs) == 1 && r.Kvs[0].CreateRevision == t.rev
}

// txnOps turns the mutations of cmds into etcd operations. etcd refuses a transaction that names a
// key twice, so a later mutation of a key replaces the earlier one in place; the transaction is
// atomic, so only the last value of each key could ever be seen anyway.
func (s *Store) txnOps(cmds []*Pending) []clientv3.Op {
	n := 0
	for _, p := range cmds {
		n += len(p.muts)
	}
	ops := make([]clientv3.Op, 0, n)
	at := make(map[string]int, n)
	for _, p := range cmds {
		for _, m := range p.muts {
			key := s.cfg.Prefix + m.Key
			op := clientv3.OpDelete(key)
			if !m.Delete() {
				op = clientv3.OpPut(key, string(m.Value))
			}
			if i, ok := at[m.Key]; ok {
				ops[i] = op
				continue
			}
			at[m.Key] = len(ops)
			ops = append(ops, op)
		}
	}
	return ops
}

// finish counts cmds and completes them with err. It counts first, so that a caller whose Wait has
// returned sees its command in Stats.
func (s *Store) finish(cmds []*Pending, err error) {
	muts := 0
	for _, p := range cmds {
		muts += len(p.muts)
	}
	if err != nil {
		s.stats.failed.Add(uint64(len(cmds)))
	} else {
		s.stats.commands.Add(uint64(len(cmds)))
		s.stats.mutations.Add(uint64(muts))
	}
	for _, p := range cmds {
		p.err = err
		close(p.done)
	}
}
