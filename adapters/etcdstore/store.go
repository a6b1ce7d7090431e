package etcdstore

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"
)

// Store is knitter-manager's connection to etcd: it loads records, runs the election and writes
// commands with group commit. Its methods are safe for concurrent use.
type Store struct {
	cfg            Config
	client         *clientv3.Client
	electionPrefix string // Prefix+"leader"; concurrency.Election adds the "/"

	ctx    context.Context // canceled by Close, to stop a blocked Campaign
	cancel context.CancelFunc

	// queue feeds the writer goroutine. sendMu lets Close know that no Submit is still sending
	// before it closes queue.
	queue       chan *Pending
	slots       chan struct{} // one token per reserved or queued command; its capacity is QueueSize
	sendMu      sync.RWMutex
	queueClosed bool
	stop        chan struct{} // closed first by Close: Submits blocked on a full queue give up
	writerDone  chan struct{}
	inflight    chan struct{} // one token per transaction in flight; its capacity is MaxInflight
	completed   chan struct{} // wakes the writer when a transaction completes
	closeOnce   sync.Once

	campaignMu sync.Mutex // one Campaign or Resign at a time
	mu         sync.Mutex // guards session and term
	session    *concurrency.Session
	term       *Term

	stats counters
}

// Open connects to etcd at cfg.Endpoints, checks within cfg.DialTimeout that it answers, and starts
// the writer. The Store is not the leader until Campaign returns.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s, err := open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	go s.write()
	return s, nil
}

// open connects and checks etcd but leaves the writer to the caller, so that tests can queue
// commands before it runs.
func open(ctx context.Context, cfg Config) (*Store, error) {
	where := strings.Join(cfg.Endpoints, ",")
	ccfg := clientv3.Config{
		Endpoints:   cfg.Endpoints,
		DialTimeout: cfg.DialTimeout,
		// The client's default send limit (2 MiB) would refuse transactions the configuration
		// allows; leave room for the framing beyond the keys and values MaxTxnBytes counts.
		MaxCallSendMsgSize: 2*cfg.MaxTxnBytes + 1<<20,
		// The client logs every retry; the errors reach the caller anyway.
		Logger: zap.NewNop(),
	}
	if cfg.TLS.Enabled() {
		info := transport.TLSInfo{CertFile: cfg.TLS.CertFile, KeyFile: cfg.TLS.KeyFile, TrustedCAFile: cfg.TLS.CAFile}
		tc, err := info.ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("etcdstore: load the TLS files for etcd at %s: %w", where, err)
		}
		ccfg.TLS = tc
	}
	client, err := clientv3.New(ccfg)
	if err != nil {
		return nil, fmt.Errorf("etcdstore: connect to etcd at %s: %w", where, err)
	}
	// clientv3.New does not wait for a connection; a linearizable read proves etcd is reachable and
	// has a quorum.
	pctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	_, err = client.Get(pctx, cfg.Prefix, clientv3.WithCountOnly())
	cancel()
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("etcdstore: etcd at %s did not answer within %s (check that it runs and the endpoints, TLS files and firewall are right): %w", where, cfg.DialTimeout, err)
	}
	sctx, scancel := context.WithCancel(context.Background())
	return &Store{
		cfg:            cfg,
		client:         client,
		electionPrefix: cfg.Prefix + strings.TrimSuffix(reservedPrefix, "/"),
		ctx:            sctx,
		cancel:         scancel,
		queue:          make(chan *Pending, cfg.QueueSize),
		slots:          make(chan struct{}, cfg.QueueSize),
		stop:           make(chan struct{}),
		writerDone:     make(chan struct{}),
		inflight:       make(chan struct{}, cfg.MaxInflight),
		completed:      make(chan struct{}, 1),
	}, nil
}

// Close writes the commands already queued, ends the term, revokes the session's lease so that a
// standby can take over at once instead of after the TTL, and disconnects. Submits that are waiting
// for queue space fail with ErrClosed. It is safe to call more than once.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.stop)
		s.sendMu.Lock()
		s.queueClosed = true
		close(s.queue)
		s.sendMu.Unlock()
		<-s.writerDone

		s.mu.Lock()
		t, sess := s.term, s.session
		s.mu.Unlock()
		if t != nil {
			t.end(ErrClosed)
		}
		s.cancel()
		if sess != nil {
			// Revoke errors are not worth returning: the lease then expires after its TTL.
			_ = sess.Close()
		}
		err = s.client.Close()
	})
	return err
}

// Stats counts the work of the writer since Open.
type Stats struct {
	// Commands is how many commands were written, Mutations how many mutations they held.
	Commands, Mutations uint64
	// Txns is how many etcd transactions carried them; Commands/Txns is the group-commit factor.
	Txns uint64
	// Failed is how many commands the writer failed.
	Failed uint64
	// Reordered is how many transactions reached etcd before the one before them, failed the write
	// sequence's check and were sent once more.
	Reordered uint64
}

type counters struct {
	commands, mutations, txns, failed, reordered atomic.Uint64
}

// Stats returns the writer's counters.
func (s *Store) Stats() Stats {
	return Stats{
		Commands:  s.stats.commands.Load(),
		Mutations: s.stats.mutations.Load(),
		Txns:      s.stats.txns.Load(),
		Failed:    s.stats.failed.Load(),
		Reordered: s.stats.reordered.Load(),
	}
}
