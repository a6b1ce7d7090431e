package etcdstore

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"

	"github.com/knitter-cni/knitter/adapters/pki"
	"github.com/knitter-cni/knitter/core/model"
)

// EmbedConfig configures the single-member etcd that knitter-manager runs in its own process when no
// external etcd is given. Nothing else may reach it: by default its clients are served on a unix
// socket inside DataDir (mode 0700, so only the manager's user can connect), and its peer listener,
// which a single member needs but never uses, accepts only TLS clients with a certificate from a CA
// whose key never leaves DataDir.
type EmbedConfig struct {
	// DataDir holds etcd's WAL and database, the client socket and the peer certificates; it is
	// created with mode 0700 (and an existing one is set to 0700). Required.
	DataDir string
	// Name is the member name. Default "knitter".
	Name string
	// ClientPort, with ClientCertFile, ClientKeyFile and ClientCAFile, serves clients on TCP
	// 127.0.0.1 instead of the socket, over TLS that requires a client certificate signed by
	// ClientCAFile; 0 picks a free port (Embedded.Endpoints reports it). Without the TLS files the
	// clients are served on the socket only.
	ClientPort int
	// PeerPort is the peer listener's TCP port on 127.0.0.1; 0 picks a free one.
	PeerPort int
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
	// ClientCertFile and ClientKeyFile are the server's certificate for TCP clients, and
	// ClientCAFile the CA their certificates must be signed by. Give all three or none.
	ClientCertFile, ClientKeyFile, ClientCAFile string
}

// SocketName is the file name of the client socket in EmbedConfig.DataDir.
const SocketName = "client.sock"

// maxSocketPath is the longest path a unix socket address may have on Linux (sun_path less its NUL).
const maxSocketPath = 107

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
	peers     []string
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
	if err := privateDir(cfg.DataDir); err != nil {
		return nil, err
	}
	ec := embed.NewConfig()
	ec.Name = cfg.Name
	ec.Dir = cfg.DataDir
	clientURL := url.URL{Scheme: "unix", Path: filepath.Join(cfg.DataDir, SocketName)}
	if cfg.ClientCertFile != "" {
		clientURL = localURL("https", cfg.ClientPort)
		ec.ClientTLSInfo = transport.TLSInfo{CertFile: cfg.ClientCertFile, KeyFile: cfg.ClientKeyFile,
			TrustedCAFile: cfg.ClientCAFile, ClientCertAuth: true}
	} else if err := removeStaleSocket(clientURL.Path); err != nil {
		return nil, err
	}
	peer, err := pki.Ensure(filepath.Join(cfg.DataDir, "peer-pki"), nil)
	if err != nil {
		return nil, fmt.Errorf("etcdstore: make the embedded etcd's peer certificates in %s: %w", cfg.DataDir, err)
	}
	ec.PeerTLSInfo = transport.TLSInfo{CertFile: peer.Cert, KeyFile: peer.Key, TrustedCAFile: peer.CA, ClientCertAuth: true}
	peerURL := localURL("https", cfg.PeerPort)
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
		if l.Addr().Network() == "unix" {
			m.endpoints = append(m.endpoints, "unix://"+l.Addr().String())
		} else {
			m.endpoints = append(m.endpoints, "https://"+l.Addr().String())
		}
	}
	for _, l := range e.Peers {
		m.peers = append(m.peers, l.Addr().String())
	}
	return m, nil
}

// Endpoints returns the client URLs the server listens on: unix:///<DataDir>/client.sock, or
// https://127.0.0.1:<port> with client-certificate TLS.
func (e *Embedded) Endpoints() []string { return append([]string(nil), e.endpoints...) }

// PeerAddrs returns the host:port addresses of the peer listener (TLS with client certificates).
func (e *Embedded) PeerAddrs() []string { return append([]string(nil), e.peers...) }

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
	if c.ClientCertFile != "" || c.ClientKeyFile != "" || c.ClientCAFile != "" {
		if c.ClientCertFile == "" || c.ClientKeyFile == "" || c.ClientCAFile == "" {
			return model.Invalid("client_ca_file", "TCP clients need client-certificate TLS: give client_cert_file, client_key_file and client_ca_file, or none of them to serve on the unix socket")
		}
	} else if c.ClientPort != 0 {
		return model.Invalid("client_port", "the embedded etcd serves TCP clients only with client-certificate TLS (give client_cert_file, client_key_file and client_ca_file); leave it 0 to serve on the unix socket %s", filepath.Join(c.DataDir, SocketName))
	}
	if p := filepath.Join(c.DataDir, SocketName); len(p) > maxSocketPath {
		return model.Invalid("data_dir", "the client socket %s would be %d bytes long, more than a unix socket address holds (%d); use a shorter data directory", p, len(p), maxSocketPath)
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

func localURL(scheme string, port int) url.URL {
	return url.URL{Scheme: scheme, Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
}

// privateDir creates dir with mode 0700, or makes an existing one 0700: the socket inside it is
// guarded by the directory's permissions.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("etcdstore: create the embedded etcd's data directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("etcdstore: make the embedded etcd's data directory private: %w", err)
	}
	return nil
}

// removeStaleSocket removes a socket file left by a process that died, so that listening succeeds.
// Anything else at the path is an error rather than something to delete.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("etcdstore: check the client socket %s: %w", path, err)
	case fi.Mode()&os.ModeSocket == 0:
		return fmt.Errorf("etcdstore: %s exists and is not a socket; move it away", path)
	}
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return fmt.Errorf("etcdstore: another process serves %s; is a second manager running on the same data directory?", path)
	}
	return os.Remove(path)
}
