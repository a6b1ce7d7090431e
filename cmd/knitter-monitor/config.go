package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// Config is knitter-monitor's configuration file (YAML or JSON). Flags override it.
type Config struct {
	// Kubeconfig is the monitor's kubeconfig; empty means the pod's service account (in-cluster).
	Kubeconfig string        `json:"kubeconfig,omitempty"`
	Manager    ManagerConfig `json:"manager,omitzero"`
	// Listen serves /metrics, /healthz and /readyz. Default :9529.
	Listen string `json:"listen,omitempty"`
	// LeaderElect runs the monitor only while it holds the Lease LeaseNamespace/LeaseName, so that
	// standbys take over from a monitor that died. Default true.
	LeaderElect    *bool  `json:"leader_elect,omitempty"`
	LeaseNamespace string `json:"lease_namespace,omitempty"` // default kube-system
	LeaseName      string `json:"lease_name,omitempty"`      // default knitter-monitor
	// Identity names this monitor in the Lease. Default $POD_NAME, else the host name.
	Identity string `json:"identity,omitempty"`
	// LeaseDuration is how long a dead leader's lease blocks a standby. Default 15s.
	LeaseDuration Duration `json:"lease_duration,omitzero"`
	// Workers sync pods in parallel. Default 4.
	Workers int `json:"workers,omitempty"`
	// ReconcilePeriod is the interval of the full reconcile. Default 30s.
	ReconcilePeriod Duration `json:"reconcile_period,omitzero"`
	// OrphanGrace and NodeGrace tune the reconcile (see monitor.Config). Defaults 5s and 5m.
	OrphanGrace Duration `json:"orphan_grace,omitzero"`
	NodeGrace   Duration `json:"node_grace,omitzero"`
	// NetworkStatus writes pods' network-status annotation. Default true; turn it off behind Multus,
	// which writes the annotation itself.
	NetworkStatus *bool `json:"network_status,omitempty"`
	// AllocateAtAdd leaves allocation to the agents' CNI ADD instead of pre-allocating each pod's
	// ports when it is created (see monitor.Config). Default false.
	AllocateAtAdd bool `json:"allocate_at_add,omitempty"`
	// Resync is the informers' resync period (every pod is synced again). Default 10m.
	Resync Duration `json:"resync,omitzero"`
	// LogLevel is debug, info, warn or error. Default info.
	LogLevel string `json:"log_level,omitempty"`
}

// ManagerConfig says how to reach knitter-manager.
type ManagerConfig struct {
	URL string `json:"url,omitempty"`
	// TokenFile holds the monitor's bearer token (a system-role token).
	TokenFile string `json:"token_file,omitempty"`
	// CAFile is the CA of the manager's certificate.
	CAFile string `json:"ca_file,omitempty"`
}

// Duration is a time.Duration written as "30s" in the file.
type Duration time.Duration

// UnmarshalJSON accepts a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration such as \"30s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		return fmt.Errorf("%q is not a positive duration; use e.g. \"30s\"", s)
	}
	*d = Duration(v)
	return nil
}

// loadConfig reads file (none: all defaults). Unknown keys are errors naming the key.
func loadConfig(file string) (Config, error) {
	var c Config
	if file == "" {
		return c, nil
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return c, fmt.Errorf("config %s: not valid YAML: %w", file, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("config %s: %w", file, err)
	}
	return c, nil
}

// complete fills defaults and checks the values, naming the setting and the fix.
func (c *Config) complete() error {
	yes := true
	if c.LeaderElect == nil {
		c.LeaderElect = &yes
	}
	if c.NetworkStatus == nil {
		c.NetworkStatus = &yes
	}
	def := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	def(&c.LeaseDuration, 15*time.Second)
	def(&c.ReconcilePeriod, 30*time.Second)
	def(&c.OrphanGrace, 5*time.Second)
	def(&c.NodeGrace, 5*time.Minute)
	def(&c.Resync, 10*time.Minute)
	if c.Listen == "" {
		c.Listen = ":9529"
	}
	if c.LeaseNamespace == "" {
		c.LeaseNamespace = "kube-system"
	}
	if c.LeaseName == "" {
		c.LeaseName = "knitter-monitor"
	}
	if c.Identity == "" {
		c.Identity = os.Getenv("POD_NAME")
	}
	if c.Identity == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("identity (--identity): not set and the host name is unknown: %w", err)
		}
		c.Identity = strings.ToLower(h)
	}
	if c.Workers == 0 {
		c.Workers = 4
	}
	switch {
	case c.Manager.URL == "":
		return fmt.Errorf("manager.url (--manager-url) is required, e.g. https://10.0.0.2:9527")
	case c.Manager.TokenFile == "":
		return fmt.Errorf("manager.token_file (--manager-token-file) is required: the monitor authenticates with a system token")
	case c.Workers < 0 || c.Workers > 64:
		return fmt.Errorf("workers (--workers): %d is out of range; use 1-64", c.Workers)
	case c.OrphanGrace >= c.ReconcilePeriod:
		return fmt.Errorf("orphan_grace (%s) must be shorter than reconcile_period (%s), or an orphan would outlive a period",
			time.Duration(c.OrphanGrace), time.Duration(c.ReconcilePeriod))
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen (--listen): %q is not host:port (e.g. :9529)", c.Listen)
	}
	switch c.LogLevel {
	case "", "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log_level (--log-level): %q is not one of debug, info, warn, error", c.LogLevel)
	}
	return nil
}
