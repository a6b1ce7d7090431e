package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/knitter-cni/knitter/adapters/etcdstore"
	"github.com/knitter-cni/knitter/core/alloc"
)

// Config is knitter-manager's configuration file (YAML or JSON). Flags override it.
type Config struct {
	// Listen is the API's address. Default 127.0.0.1:9527.
	Listen string `json:"listen,omitempty"`
	// AdvertiseURL is how other managers and clients reach this one (standbys proxy to it).
	// Default https://<listen> (http:// with insecure_http).
	AdvertiseURL string `json:"advertise_url,omitempty"`
	// DataDir holds the embedded etcd, generated TLS material and the admin token. Default
	// /var/lib/knitter-manager.
	DataDir string     `json:"data_dir,omitempty"`
	Etcd    EtcdConfig `json:"etcd,omitzero"`
	TLS     TLSConfig  `json:"tls,omitzero"`
	// AdminTokenFile holds the admin bearer token; created with a random token if missing.
	// Default <data_dir>/admin.token.
	AdminTokenFile string `json:"admin_token_file,omitempty"`
	// Cooldown and StickyTTL tune allocation (see alloc.Config). Defaults 30s and 10m.
	Cooldown  Duration `json:"cooldown,omitzero"`
	StickyTTL Duration `json:"sticky_ttl,omitzero"`
	// Strategy is how pools pick addresses: lowest-free (the default) or next-fit (see
	// alloc.Config).
	Strategy string `json:"strategy,omitempty"`
	// Underlay lists the physical networks (node NICs) that carry the nodes' own traffic: no tenant
	// may be granted one and no network may use one (see alloc.Config).
	Underlay []string `json:"underlay,omitempty"`
	// Bootstrap names a file of tenants, networks and IP groups created at start when missing.
	Bootstrap string `json:"bootstrap,omitempty"`
	// LogLevel is debug, info, warn or error. Default info.
	LogLevel string `json:"log_level,omitempty"`
	// Limits bound what clients can hold of the API server.
	Limits LimitsConfig `json:"limits,omitzero"`
}

// LimitsConfig bounds the API server's connections and requests, so that no client — least of all
// one without a token — can exhaust it. Zero values take the defaults.
type LimitsConfig struct {
	// MaxConnections bounds the open connections. Default 4096.
	MaxConnections int `json:"max_connections,omitempty"`
	// MaxUnauthenticatedConnections bounds the connections that have not made an authenticated
	// request yet; beyond it the oldest of them is closed. Default 256.
	MaxUnauthenticatedConnections int `json:"max_unauthenticated_connections,omitempty"`
	// MaxRequestsPerClient bounds the requests one caller at one address has in flight; more get 429.
	// Default 128.
	MaxRequestsPerClient int `json:"max_requests_per_client,omitempty"`
	// ReadHeaderTimeout bounds the TLS handshake and a request's headers. Default 10s.
	ReadHeaderTimeout Duration `json:"read_header_timeout,omitzero"`
	// ReadTimeout bounds reading a whole request, body included. Default 30s.
	ReadTimeout Duration `json:"read_timeout,omitzero"`
	// WriteTimeout bounds a request from its headers to the end of its answer. Default 60s.
	WriteTimeout Duration `json:"write_timeout,omitzero"`
	// IdleTimeout closes a keep-alive connection idle this long. Default 90s.
	IdleTimeout Duration `json:"idle_timeout,omitzero"`
}

// EtcdConfig says where the state lives.
type EtcdConfig struct {
	// Endpoints of an external etcd cluster; empty runs an embedded etcd in <data_dir>/etcd.
	Endpoints []string `json:"endpoints,omitempty"`
	CAFile    string   `json:"ca_file,omitempty"`
	CertFile  string   `json:"cert_file,omitempty"`
	KeyFile   string   `json:"key_file,omitempty"`
	// Prefix of every key. Default /knitter/.
	Prefix string `json:"prefix,omitempty"`
	// ClientPort must stay 0: the embedded etcd serves its clients only on the unix socket
	// <data_dir>/etcd/client.sock, so that no other local user can reach the state. (An operator
	// tool can use that socket as endpoint unix://<data_dir>/etcd/client.sock, as root.)
	ClientPort int `json:"client_port,omitempty"`
	// SessionTTL is how long after this manager dies a standby may take over. Default 5s.
	SessionTTL Duration `json:"session_ttl,omitzero"`
	// MaxInflight is how many transactions of a term may be in flight to etcd at once; they land in
	// order (a per-term sequence check) and a failure fails every later one. Default 4; 1 sends one
	// transaction at a time.
	MaxInflight int `json:"max_inflight,omitempty"`
}

// TLSConfig is the API's TLS. With no files given, a CA and a server certificate are generated in
// <data_dir>/pki on first start.
type TLSConfig struct {
	CertFile string `json:"cert_file,omitempty"`
	KeyFile  string `json:"key_file,omitempty"`
	// CAFile is the CA of the other managers' certificates (for proxying to the leader).
	CAFile string `json:"ca_file,omitempty"`
	// Hosts are extra names and addresses for the generated certificate.
	Hosts []string `json:"hosts,omitempty"`
	// InsecureHTTP serves plain HTTP: only for a manager on loopback in development.
	InsecureHTTP bool `json:"insecure_http,omitempty"`
}

// Duration is a time.Duration written as "30s" in the file.
type Duration time.Duration

// UnmarshalJSON accepts a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration such as \"30s\" or \"10m\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration; use e.g. \"30s\" or \"10m\"", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// loadConfig reads a config file strictly: unknown fields are errors naming the field.
func loadConfig(path string) (Config, error) {
	var c Config
	if path == "" {
		return c, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("reading config: %w", err)
	}
	j, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return c, fmt.Errorf("config %s: not valid YAML: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// scheme is the one the manager serves: https unless tls.insecure_http.
func (c *Config) scheme() string {
	if c.TLS.InsecureHTTP {
		return "http"
	}
	return "https"
}

// complete fills defaults and checks the values, naming the field and the fix.
func (c *Config) complete() error {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:9527"
	}
	_, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("listen: %q is not host:port (e.g. 127.0.0.1:9527)", c.Listen)
	}
	if c.AdvertiseURL == "" && port != "0" {
		// With port 0 the kernel picks the port: run sets the URL from the address it got.
		c.AdvertiseURL = c.scheme() + "://" + c.Listen
	}
	if c.DataDir == "" {
		c.DataDir = "/var/lib/knitter-manager"
	}
	if c.AdminTokenFile == "" {
		c.AdminTokenFile = filepath.Join(c.DataDir, "admin.token")
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return fmt.Errorf("tls: give both cert_file and key_file, or neither to generate them")
	}
	if (c.Etcd.CertFile == "") != (c.Etcd.KeyFile == "") {
		return fmt.Errorf("etcd: give both cert_file and key_file, or neither")
	}
	if len(c.Etcd.Endpoints) == 0 && (c.Etcd.CAFile != "" || c.Etcd.CertFile != "") {
		return fmt.Errorf("etcd: TLS files are for an external etcd; set etcd.endpoints too")
	}
	if c.Etcd.MaxInflight < 0 {
		return fmt.Errorf("etcd.max_inflight: %d; use 1 or more, or leave it 0 for the default %d", c.Etcd.MaxInflight, etcdstore.DefaultMaxInflight)
	}
	if c.Etcd.ClientPort != 0 {
		return fmt.Errorf("etcd.client_port: the embedded etcd no longer listens on TCP (any local process could write the state); it serves the unix socket %s — remove the setting, or run an external etcd with TLS and set etcd.endpoints",
			filepath.Join(c.DataDir, "etcd", "client.sock"))
	}
	if err := c.Limits.complete(); err != nil {
		return err
	}
	switch c.LogLevel {
	case "", "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log_level: %q; use debug, info, warn or error", c.LogLevel)
	}
	return c.allocConfig().Validate()
}

func (c *Config) allocConfig() alloc.Config {
	a := alloc.DefaultConfig()
	if c.Cooldown != 0 {
		a.Cooldown = time.Duration(c.Cooldown)
	}
	if c.StickyTTL != 0 {
		a.StickyTTL = time.Duration(c.StickyTTL)
	}
	a.Underlay = c.Underlay
	a.Strategy = c.Strategy
	return a
}

// complete fills the limits' defaults and checks them.
func (l *LimitsConfig) complete() error {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *Duration, d time.Duration) {
		if *v == 0 {
			*v = Duration(d)
		}
	}
	def(&l.MaxConnections, 4096)
	def(&l.MaxUnauthenticatedConnections, 256)
	def(&l.MaxRequestsPerClient, 128)
	defDur(&l.ReadHeaderTimeout, 10*time.Second)
	defDur(&l.ReadTimeout, 30*time.Second)
	defDur(&l.WriteTimeout, 60*time.Second)
	defDur(&l.IdleTimeout, 90*time.Second)
	for name, v := range map[string]int{"max_connections": l.MaxConnections, "max_unauthenticated_connections": l.MaxUnauthenticatedConnections,
		"max_requests_per_client": l.MaxRequestsPerClient} {
		if v < 1 {
			return fmt.Errorf("limits.%s: %d; give a positive number", name, v)
		}
	}
	if l.MaxUnauthenticatedConnections > l.MaxConnections {
		return fmt.Errorf("limits.max_unauthenticated_connections: %d is more than max_connections (%d); give at most that", l.MaxUnauthenticatedConnections, l.MaxConnections)
	}
	for name, v := range map[string]Duration{"read_header_timeout": l.ReadHeaderTimeout, "read_timeout": l.ReadTimeout,
		"write_timeout": l.WriteTimeout, "idle_timeout": l.IdleTimeout} {
		if v < 0 {
			return fmt.Errorf("limits.%s: %s; give a positive duration such as \"30s\"", name, time.Duration(v))
		}
	}
	return nil
}
