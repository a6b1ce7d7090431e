package etcdstore

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/knitter-cni/knitter/core/model"
)

// EmbedConfig configures the single-member etcd that knitter-manager runs in its own process when no
// external etcd is given. It listens on 127.0.0.1 only.
type EmbedConfig struct {
	// DataDir holds etcd's WAL and database; it is created with mode 0700. Required.
	DataDir string
	// Name is the member name. Default "knitter".
	Name string
	// ClientPort and PeerPort are the TCP ports on 127.0.0.1; 0 lets the kernel pick a free port
	// (Embedded.Endpoints reports the one it got).
	ClientPort, PeerPort int
	// MaxTxnOps is the server's --max-txn-ops; large so that a big command fits one transaction.
	// Default 10000.
	MaxTxnOps int
	// MaxRequestBytes is the server's --max-request-bytes. Default 8 MiB.
	MaxRequestBytes int
	// CompactionRetention is how much key history etcd keeps (periodic compaction). Default 1h.
	CompactionRetention time.Duration
	// LogLevel is etcd's zap level: debug, info, warn or error. Default "warn", since etcd logs a
	// great deal at info.
	LogLevel string
	// StartTimeout bounds waiting for the server to be ready. Default 60s.
	StartTimeout time.Duration
	// ClientCertFile and ClientKeyFile make the server answer clients over TLS (https://) with this
	// certificate; empty serves plain TCP on 127.0.0.1.
	ClientCertFile, ClientKeyFile string
}

// Defaults of EmbedConfig.
const (
	DefaultEmbedName            = "knitter"
	DefaultEmbedMaxTxnOps       = 10000
	DefaultEmbedMaxRequestBytes = 8 << 20
	DefaultCompactionRetention  = time.Hour
	DefaultEmbedLogLevel        = "warn"
	DefaultEmbedStartTimeout    = 60 * time.Second
)

// Embedded is a running embedded etcd server.
type Embedded struct {
	etcd      *embed.Etcd
	closing   *atomic.Bool
	endpoints []string
	maxTxn    int
	maxBytes  int
}

// StartEmbedded starts an embedded etcd server on cfg.DataDir and waits until it serves clients.
// Starting it again on the same DataDir recovers everything written before.
func StartEmbedded(cfg EmbedConfig) (*Embedded, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ec := embed.NewConfig()
	ec.Name = cfg.Name
	ec.Dir = cfg.DataDir
	clientURL := localURL(cfg.ClientPort)
	scheme := "http"
	if cfg.ClientCertFile != "" {
		scheme = "https"
		clientURL.Scheme = scheme
		ec.ClientTLSInfo.CertFile, ec.ClientTLSInfo.KeyFile = cfg.ClientCertFile, cfg.ClientKeyFile
	}
	peerURL := localURL(cfg.PeerPort)
	ec.ListenClientUrls, ec.AdvertiseClientUrls = []url.URL{clientURL}, []url.URL{clientURL}
	ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{peerURL}, []url.URL{peerURL}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	ec.MaxTxnOps = uint(cfg.MaxTxnOps)
	ec.MaxRequestBytes = uint(cfg.MaxRequestBytes)
	ec.AutoCompactionMode = embed.CompactorModePeriodic
	ec.AutoCompactionRetention = cfg.CompactionRetention.String()
	ec.LogLevel = cfg.LogLevel
	closing := new(atomic.Bool)
	lg, err := newEmbedLogger(cfg.LogLevel, closing)
	if err != nil {
		return nil, fmt.Errorf("etcdstore: build the embedded etcd logger: %w", err)
	}
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(lg)

	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("etcdstore: start embedded etcd in %s: %w", cfg.DataDir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		closing.Store(true)
		e.Close()
		return nil, fmt.Errorf("etcdstore: embedded etcd in %s failed while starting: %w", cfg.DataDir, err)
	case <-time.After(cfg.StartTimeout):
		closing.Store(true)
		e.Server.Stop()
		e.Close()
		return nil, fmt.Errorf("etcdstore: embedded etcd in %s was not ready within %s; see its log for the reason", cfg.DataDir, cfg.StartTimeout)
	}
	m := &Embedded{etcd: e, closing: closing, maxTxn: cfg.MaxTxnOps, maxBytes: cfg.MaxRequestBytes}
	for _, l := range e.Clients {
		// The listener's address, not the configured URL, so that port 0 reports the chosen port.
		m.endpoints = append(m.endpoints, scheme+"://"+l.Addr().String())
	}
	return m, nil
}

// Endpoints returns the client URLs the server listens on.
func (e *Embedded) Endpoints() []string { return append([]string(nil), e.endpoints...) }

// ClientConfig returns a Config that reaches this server, with transaction limits matched to it;
// the caller may change the other fields.
func (e *Embedded) ClientConfig() Config {
	return Config{
		Endpoints: e.Endpoints(),
		MaxTxnOps: e.maxTxn,
		// Leave room below the server's request limit for the gRPC and transaction framing.
		MaxTxnBytes: e.maxBytes / 2,
	}
}

// Err returns a channel that reports the server's fatal errors; it is closed when the server stops.
func (e *Embedded) Err() <-chan error { return e.etcd.Err() }

// Close stops the server gracefully and waits until it has stopped. It is safe to call more than once.
func (e *Embedded) Close() error {
	e.closing.Store(true)
	e.etcd.Close()
	return nil
}

func (c EmbedConfig) withDefaults() EmbedConfig {
	if c.Name == "" {
		c.Name = DefaultEmbedName
	}
	setInt(&c.MaxTxnOps, DefaultEmbedMaxTxnOps)
	setInt(&c.MaxRequestBytes, DefaultEmbedMaxRequestBytes)
	setDuration(&c.CompactionRetention, DefaultCompactionRetention)
	setDuration(&c.StartTimeout, DefaultEmbedStartTimeout)
	if c.LogLevel == "" {
		c.LogLevel = DefaultEmbedLogLevel
	}
	return c
}

func (c EmbedConfig) validate() error {
	if c.DataDir == "" {
		return model.Invalid("data_dir", "give the directory where the embedded etcd keeps its data, e.g. /var/lib/knitter/etcd")
	}
	for _, p := range []struct {
		name string
		port int
	}{{"client_port", c.ClientPort}, {"peer_port", c.PeerPort}} {
		if p.port < 0 || p.port > 65535 {
			return model.Invalid(p.name, "%d is not a TCP port; use 1-65535, or 0 to pick a free one", p.port)
		}
	}
	if (c.ClientCertFile == "") != (c.ClientKeyFile == "") {
		return model.Invalid("client_cert_file", "give both the certificate and its key, or neither")
	}
	if c.ClientPort != 0 && c.ClientPort == c.PeerPort {
		return model.Invalid("peer_port", "must differ from client_port (%d)", c.ClientPort)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return model.Invalid("log_level", "%q is not a level; use debug, info, warn or error", c.LogLevel)
	}
	if c.MaxTxnOps < 0 || c.MaxRequestBytes < 0 || c.CompactionRetention < 0 || c.StartTimeout < 0 {
		return model.Invalid("", "limits and durations must not be negative; leave them 0 for the defaults")
	}
	return nil
}

func localURL(port int) url.URL {
	return url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
}
