package etcdstore

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/knitter-cni/knitter/core/alloc"
)

// loadAttempts bounds how often Load restarts when compaction removes the revision it reads at.
const loadAttempts = 3

// Load returns every record under the prefix, with relative keys, sorted by key, as one consistent
// snapshot: the first page is a linearizable read and the others read at its revision. The
// election's keys are left out.
func (s *Store) Load(ctx context.Context) ([]alloc.Record, error) {
	var err error
	for range loadAttempts {
		var recs []alloc.Record
		if recs, err = s.load(ctx); !errors.Is(err, rpctypes.ErrCompacted) {
			return recs, err
		}
	}
	return nil, err
}

func (s *Store) load(ctx context.Context) ([]alloc.Record, error) {
	prefix := s.cfg.Prefix
	end := clientv3.GetPrefixRangeEnd(prefix)
	var recs []alloc.Record
	var rev int64
	for key := prefix; ; {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(int64(s.cfg.LoadPageSize))}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := s.client.Get(ctx, key, opts...)
		if err != nil {
			return nil, fmt.Errorf("etcdstore: load records under %s from %q: %w", prefix, key, err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
			recs = make([]alloc.Record, 0, resp.Count) // Count is the whole range, not the page
		}
		for _, kv := range resp.Kvs {
			rel := string(kv.Key[len(prefix):])
			if reserved(rel) {
				continue
			}
			// The value was decoded into its own buffer; keep it rather than copy it.
			v := kv.Value
			if v == nil {
				v = []byte{} // an empty value is still a record, not a delete
			}
			recs = append(recs, alloc.Record{Key: rel, Value: v})
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return recs, nil
		}
		key = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}
