package etcdstore

import (
	"strings"
	"time"

	"github.com/knitter-cni/knitter/core/model"
)

// Config configures a Store: where etcd is, how to authenticate, and the bounds of the write path.
// Zero values take the defaults documented on each field.
type Config struct {
	// Endpoints are the etcd client URLs, e.g. "https://10.0.0.1:2379". Required.
	Endpoints []string
	// TLS holds the client certificate files for an etcd that requires TLS. Empty means plain TCP
	// (the embedded etcd listens on 127.0.0.1 only).
	TLS TLSFiles
	// DialTimeout bounds connecting to etcd and the check Open makes that etcd answers. Default 5s.
	DialTimeout time.Duration
	// Prefix is the key prefix of all records; it must end in "/". Default "/knitter/".
	Prefix string
	// SessionTTL is the lease TTL of the election session, rounded up to whole seconds: how long
	// after a manager dies (kill -9, partition) a standby may take over. Default 5s; etcd raises
	// values below its minimum.
	SessionTTL time.Duration
	// WriteTimeout bounds each etcd transaction of the writer. Default 5s.
	WriteTimeout time.Duration
	// MaxTxnOps is the most operations one transaction may carry. It must not exceed the server's
	// --max-txn-ops (128 unless raised; the embedded server raises it). Default 128.
	MaxTxnOps int
	// MaxTxnBytes is the most key and value bytes one transaction may carry; it must stay below the
	// server's --max-request-bytes (1.5 MiB unless raised). Default 1 MiB.
	MaxTxnBytes int
	// QueueSize is how many commands may wait for the writer; Submit blocks when it is full.
	// Default 4096.
	QueueSize int
	// MaxBatch is the most commands one group commit takes from the queue. Default 1024.
	MaxBatch int
	// MaxInflight is how many transactions of a term may be in flight at once. They land in order
	// all the same: each one is conditioned on the term's write sequence. 1 writes one transaction
	// at a time. Default 4.
	MaxInflight int
	// LoadPageSize is how many keys each range request of Load fetches. Default 10000.
	LoadPageSize int
}

// TLSFiles names PEM files for a TLS connection to etcd.
type TLSFiles struct {
	// CAFile is the CA bundle that signed etcd's server certificate.
	CAFile string
	// CertFile and KeyFile are this client's certificate and key; give both or neither.
	CertFile string
	KeyFile  string
}

// Enabled reports whether any TLS file is set.
func (t TLSFiles) Enabled() bool { return t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" }

// Defaults of Config.
const (
	DefaultPrefix       = "/knitter/"
	DefaultDialTimeout  = 5 * time.Second
	DefaultSessionTTL   = 5 * time.Second
	DefaultWriteTimeout = 5 * time.Second
	DefaultMaxTxnOps    = 128
	DefaultMaxTxnBytes  = 1 << 20
	DefaultQueueSize    = 4096
	DefaultMaxBatch     = 1024
	DefaultMaxInflight  = 4
	DefaultLoadPageSize = 10000
)

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	setDuration(&c.DialTimeout, DefaultDialTimeout)
	setDuration(&c.SessionTTL, DefaultSessionTTL)
	setDuration(&c.WriteTimeout, DefaultWriteTimeout)
	setInt(&c.MaxTxnOps, DefaultMaxTxnOps)
	setInt(&c.MaxTxnBytes, DefaultMaxTxnBytes)
	setInt(&c.QueueSize, DefaultQueueSize)
	setInt(&c.MaxBatch, DefaultMaxBatch)
	setInt(&c.MaxInflight, DefaultMaxInflight)
	setInt(&c.LoadPageSize, DefaultLoadPageSize)
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	return c
}

// Validate checks c after defaults are applied; the error names the field and the fix.
func (c Config) Validate() error {
	if len(c.Endpoints) == 0 {
		return model.Invalid("endpoints", "give at least one etcd endpoint, e.g. https://10.0.0.1:2379")
	}
	for i, ep := range c.Endpoints {
		if strings.TrimSpace(ep) == "" {
			return model.Invalid("endpoints", "endpoint %d is empty; remove it or give a URL such as https://10.0.0.1:2379", i)
		}
	}
	if !strings.HasSuffix(c.Prefix, "/") {
		return model.Invalid("prefix", "%q must end in \"/\" so that it cannot match a sibling prefix; use %q", c.Prefix, c.Prefix+"/")
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return model.Invalid("tls", "give both the client certificate file and its key file, or neither")
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"dial_timeout", int64(c.DialTimeout)}, {"session_ttl", int64(c.SessionTTL)},
		{"write_timeout", int64(c.WriteTimeout)}, {"max_txn_ops", int64(c.MaxTxnOps)},
		{"max_txn_bytes", int64(c.MaxTxnBytes)}, {"queue_size", int64(c.QueueSize)},
		{"max_batch", int64(c.MaxBatch)}, {"load_page_size", int64(c.LoadPageSize)},
		{"max_inflight", int64(c.MaxInflight)},
	} {
		if f.v < 0 {
			return model.Invalid(f.name, "must not be negative; leave it 0 for the default")
		}
	}
	return nil
}

// sessionTTLSeconds is SessionTTL rounded up to the whole seconds etcd leases count in.
func (c Config) sessionTTLSeconds() int {
	return int((c.SessionTTL + time.Second - 1) / time.Second)
}

func setDuration(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

func setInt(n *int, def int) {
	if *n == 0 {
		*n = def
	}
}
