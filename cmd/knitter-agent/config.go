package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/knitter-cni/knitter/agent/wire"
)

// Config is knitter-agent's configuration file (YAML or JSON). Flags override it.
type Config struct {
	// NodeName is the Kubernetes node name. Default $NODE_NAME, else the host name.
	NodeName string `json:"node_name,omitempty"`
	// VTEP is this node's underlay address for VXLAN; required for overlay networks.
	VTEP string `json:"vtep,omitempty"`
	// VTEPDevice is the NIC that carries the VTEP address (VXLAN devices bind to it).
	VTEPDevice string `json:"vtep_device,omitempty"`
	// Uplinks maps physical network names to this node's NICs ("physnet1": "eth1").
	Uplinks map[string]string `json:"uplinks,omitempty"`
	// MTU is the node NIC's MTU, the default for networks without one. Default 1500.
	MTU int `json:"mtu,omitempty"`
	// Socket is the unix socket the plugin calls. Default /run/knitter/agent.sock.
	Socket string `json:"socket,omitempty"`
	// StateDir holds the checkpoints. Default /run/knitter/agent, a tmpfs on systemd hosts: the
	// checkpoints are fsynced on every ADD, and on tmpfs that costs nothing. They do not survive a
	// reboot, and need not: a reboot removes the pods' namespaces and links with them, and the
	// runtime re-ADDs every pod it restarts. Set a disk path (/var/lib/knitter/agent) to keep them.
	StateDir string `json:"state_dir,omitempty"`
	// MaxConcurrent bounds the CNI calls served at once. Default 16.
	MaxConcurrent int           `json:"max_concurrent,omitempty"`
	Manager       ManagerConfig `json:"manager,omitzero"`
	// Kubeconfig is the node's kubeconfig for reading pods. InCluster uses the pod's service
	// account instead. With neither, pods are read from PodDir (a node without an API server).
	Kubeconfig string `json:"kubeconfig,omitempty"`
	InCluster  bool   `json:"in_cluster,omitempty"`
	// PodDir holds Pod manifests at <namespace>/<name>.yaml when there is no API server.
	PodDir string `json:"pod_dir,omitempty"`
	// DNS goes into ADD results whose network configuration has none.
	DNS wire.DNS `json:"dns,omitzero"`
	// HostNetns is the network namespace that is the node's (bridges, uplinks); empty means the
	// agent's own. The local demo runs each "node" as a network namespace.
	HostNetns string `json:"host_netns,omitempty"`
	// SRIOV configures the VF pool; without a sysfs root sriov networks fail with a clear error.
	SRIOV SRIOVConfig `json:"sriov,omitzero"`
	// Heartbeat is how often the node checks in (default 30s); PeerPoll how long to wait before
	// watching the node set again after a failed watch (default 5s).
	Heartbeat Duration `json:"heartbeat,omitzero"`
	PeerPoll  Duration `json:"peer_poll,omitzero"`
	// CNI installs knitter-plugin and its configuration on the node at start (a DaemonSet agent).
	CNI CNIConfig `json:"cni,omitzero"`
	// Reclaim is the interval of the orphan reclaim (attachments whose pod or netns is gone and no
	// DEL came for). Default 1m.
	Reclaim Duration `json:"reclaim,omitzero"`
	// LogLevel is debug, info, warn or error. Default info.
	LogLevel string `json:"log_level,omitempty"`
}

// ManagerConfig says how to reach knitter-manager.
type ManagerConfig struct {
	URL string `json:"url,omitempty"`
	// TokenFile holds the agent's (system role) bearer token.
	TokenFile string `json:"token_file,omitempty"`
	// CAFile is the CA of the manager's certificate.
	CAFile string `json:"ca_file,omitempty"`
}

// SRIOVConfig configures the SR-IOV VF pool.
type SRIOVConfig struct {
	// SysfsRoot is where sysfs is mounted ("/sys"); empty disables SR-IOV.
	SysfsRoot string `json:"sysfs_root,omitempty"`
	// RecordFile keeps which pod holds which VF across restarts. Default <state_dir>/sriov.json.
	RecordFile string `json:"record_file,omitempty"`
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

// loadConfig reads file (none: all defaults). Unknown keys are errors: a misspelt key would
// otherwise be silently ignored.
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
		return c, fmt.Errorf("config %s: %w", file, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("config %s: %w", file, err)
	}
	return c, nil
}

// defaults fills what neither the file nor the flags set.
// DefaultStateDir is the checkpoint directory when state_dir is not set: tmpfs (see StateDir).
const DefaultStateDir = "/run/knitter/agent"

func (c *Config) defaults() error {
	if c.NodeName == "" {
		c.NodeName = os.Getenv("NODE_NAME")
	}
	if c.NodeName == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("node_name: not set and the host name is unknown: %w", err)
		}
		c.NodeName = strings.ToLower(h)
	}
	if c.Socket == "" {
		c.Socket = wire.DefaultSocket
	}
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	if c.CNI.BinDir != "" {
		if c.CNI.ConfName == "" {
			c.CNI.ConfName = defaultConfName
		}
		if c.CNI.PluginSocket == "" {
			c.CNI.PluginSocket = c.Socket
		}
		if c.CNI.Plugin == "" {
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("cni.plugin: not set and the agent's own path is unknown: %w", err)
			}
			c.CNI.Plugin = filepath.Join(filepath.Dir(exe), "knitter-plugin")
		}
	}
	if c.Reclaim == 0 {
		c.Reclaim = Duration(time.Minute)
	}
	if c.SRIOV.SysfsRoot != "" && c.SRIOV.RecordFile == "" {
		c.SRIOV.RecordFile = c.StateDir + "/sriov.json"
	}
	return nil
}

// validate checks the values with messages that name the setting and the fix.
func (c *Config) validate() error {
	if c.Manager.URL == "" {
		return fmt.Errorf("manager.url (--manager-url) is required, e.g. https://10.0.0.2:9527")
	}
	if c.VTEP != "" {
		if _, err := netip.ParseAddr(c.VTEP); err != nil {
			return fmt.Errorf("vtep (--vtep): %q is not an IP address; give the node's underlay address", c.VTEP)
		}
	}
	if c.MTU != 0 && (c.MTU < 576 || c.MTU > 9216) {
		return fmt.Errorf("mtu (--mtu): %d is out of range; use 576-9216", c.MTU)
	}
	if c.Kubeconfig != "" && c.InCluster {
		return fmt.Errorf("kubeconfig and in_cluster are both set; choose one")
	}
	if (c.CNI.BinDir == "") != (c.CNI.ConfDir == "") {
		return fmt.Errorf("cni.bin_dir (--cni-bin-dir) and cni.conf_dir (--cni-conf-dir) go together; set both to install the plugin, or neither")
	}
	if c.CNI.ConfName != "" && (strings.Contains(c.CNI.ConfName, "/") || !strings.HasSuffix(c.CNI.ConfName, ".conflist")) {
		return fmt.Errorf("cni.conf_name (--cni-conf-name): %q must be a file name ending in .conflist", c.CNI.ConfName)
	}
	if u := c.CNI.UninstallWith; u != "" {
		ns, name, ok := strings.Cut(u, "/")
		if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
			return fmt.Errorf("cni.uninstall_with (--cni-uninstall-with): %q is not namespace/name of the agent's DaemonSet, e.g. knitter-system/knitter-agent", u)
		}
		if c.Kubeconfig == "" && !c.InCluster {
			return fmt.Errorf("cni.uninstall_with (--cni-uninstall-with) reads the DaemonSet from the API server; set in_cluster or kubeconfig too")
		}
	}
	if c.Reclaim < 0 {
		return fmt.Errorf("reclaim (--reclaim-interval): %s is negative; give an interval like 1m", time.Duration(c.Reclaim))
	}
	if c.MaxConcurrent < 0 {
		return fmt.Errorf("max_concurrent (--max-concurrent): %d is negative", c.MaxConcurrent)
	}
	switch c.LogLevel {
	case "", "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log_level (--log-level): %q is not one of debug, info, warn, error", c.LogLevel)
	}
	return nil
}
