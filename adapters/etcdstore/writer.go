package etcdstore

import (
	"context"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// write is the writer goroutine: it takes whatever is queued, up to MaxBatch commands, writes it,
// and repeats until Close closes the queue, so that queued commands are flushed before Close
// returns.
func (s *Store) write() {
	defer close(s.writerDone)
	batch := make([]*Pending, 0, s.cfg.MaxBatch)
	for p := range s.queue {
		s.release()
		batch = s.drain(append(batch[:0], p))
		s.commit(batch)
		clear(batch) // let finished commands be collected
	}
}

// drain appends what is queued now, without waiting, up to MaxBatch commands.
func (s *Store) drain(batch []*Pending) []*Pending {
	for len(batch) < s.cfg.MaxBatch {
		select {
		case p, ok := <-s.queue:
			if !ok {
				return batch
			}
			s.release()
			batch = append(batch, p)
		default:
			return batch
		}
	}
	return batch
}

// commit writes batch in order, as consecutive transactions that each fit etcd's limits.
func (s *Store) commit(batch []*Pending) {
	for len(batch) > 0 {
		n := s.chunk(batch)
		s.commitTxn(batch[:n])
		batch = batch[n:]
	}
}

// chunk returns how many leading commands of batch go in one transaction: commands of one term,
// within MaxTxnOps and MaxTxnBytes, and always at least one, so that a command larger than the
// limits still goes whole, alone.
func (s *Store) chunk(batch []*Pending) int {
	first := batch[0]
	ops, bytes := first.ops, first.bytes
	n := 1
	for ; n < len(batch); n++ {
		p := batch[n]
		if p.term != first.term || ops+p.ops > s.cfg.MaxTxnOps || bytes+p.bytes > s.cfg.MaxTxnBytes {
			break
		}
		ops += p.ops
		bytes += p.bytes
	}
	return n
}

// commitTxn writes cmds in one transaction fenced on their term. Any failure ends the term, since
// the commands after the failed ones may depend on them.
func (s *Store) commitTxn(cmds []*Pending) {
	t := cmds[0].term
	if cause := t.ended(); cause != nil {
		s.finish(cmds, notLeader(cause))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.WriteTimeout)
	resp, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(t.key), "=", t.rev)).
		Then(s.txnOps(cmds)...).
		Commit()
	cancel()
	switch {
	case err != nil:
		err = fmt.Errorf("etcdstore: writing %d commands to etcd at %s failed, and they may or may not have landed; this leadership term is over: %w",
			len(cmds), strings.Join(s.cfg.Endpoints, ","), err)
		t.end(err)
		// etcd may still apply this transaction later. Its fence must then fail, so the next term
		// must not reuse this term's election key: revoke the session (without holding up the
		// writer), which deletes the key.
		s.forgetSession(t.session)
		go t.session.Close()
		s.finish(cmds, err)
	case !resp.Succeeded:
		t.end(errFenced)
		s.finish(cmds, notLeader(errFenced))
	default:
		s.stats.txns.Add(1)
		s.finish(cmds, nil)
	}
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
