package plugin

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/knitter-cni/knitter/agent/wire"
)

// DefaultTimeout bounds one call to the agent when the configuration does not say.
const DefaultTimeout = 60 * time.Second

// maxTimeout bounds the configured timeout: runtimes give up on a sandbox after a few minutes.
const maxTimeout = 10 * time.Minute

// Config is knitter's network configuration (the plugin's stdin).
type Config struct {
	types.PluginConf
	// AgentSocket is the agent's unix socket; empty means wire.DefaultSocket.
	AgentSocket string `json:"agentSocket,omitempty"`
	// Timeout bounds one call to the agent, as a Go duration ("30s"); empty means DefaultTimeout.
	Timeout string `json:"timeout,omitempty"`
	// LogFile, if set, gets one line per call.
	LogFile string `json:"logFile,omitempty"`
	// Network ("tenant/name") is delegate mode, behind Multus: the call attaches this one network
	// as CNI_IFNAME. Empty means the pod's whole set of interfaces from its annotations.
	Network string `json:"network,omitempty"`
	// Attachments is the name an earlier draft of the CNI specification gave GC's valid
	// attachments; runtimes built on libcni send both.
	Attachments []types.GCAttachment `json:"cni.dev/attachments,omitempty"`

	timeout time.Duration
}

// LoadConfig decodes and checks the network configuration. Errors are CNI errors naming the field.
func LoadConfig(stdin []byte) (*Config, error) {
	// A configuration that can never reach the agent is the configuration's fault (7), not a
	// reason for the runtime to retry (11).
	if len(stdin) > wire.MaxRequestBytes {
		if member, n := largestMember(stdin); member != "" {
			return nil, invalidConfig(member, "is %d bytes of a network configuration of %d; knitter takes at most %d in all", n, len(stdin), wire.MaxRequestBytes)
		}
		return nil, invalidConfig("", "the network configuration is %d bytes; knitter takes at most %d", len(stdin), wire.MaxRequestBytes)
	}
	c := &Config{}
	if err := json.Unmarshal(stdin, c); err != nil {
		return nil, types.NewError(types.ErrDecodingFailure, "the network configuration is not valid JSON", err.Error())
	}
	if c.AgentSocket == "" {
		c.AgentSocket = wire.DefaultSocket
	}
	if len(c.AgentSocket) > maxSocketPath {
		return nil, invalidConfig("agentSocket", "%q is %d bytes; a unix socket path has at most %d", clip(c.AgentSocket), len(c.AgentSocket), maxSocketPath)
	}
	if len(c.Name) > maxConfigName {
		return nil, invalidConfig("name", "%q is %d bytes; use a network configuration name of at most %d", clip(c.Name), len(c.Name), maxConfigName)
	}
	c.timeout = DefaultTimeout
	if c.Timeout != "" {
		d, err := time.ParseDuration(c.Timeout)
		if err != nil || d <= 0 || d > maxTimeout {
			return nil, invalidConfig("timeout", "%q is not a duration between 1ms and %s; write it like \"30s\"", clip(c.Timeout), maxTimeout)
		}
		c.timeout = d
	}
	if c.Network != "" {
		tenant, name, ok := strings.Cut(c.Network, "/")
		if !ok || tenant == "" || name == "" || strings.Contains(name, "/") {
			return nil, invalidConfig("network", "%q is not \"tenant/name\"; name the Knitter network with its tenant, or leave it out to attach the pod's annotated networks", clip(c.Network))
		}
	}
	return c, nil
}

// CallTimeout is the configured bound on one call to the agent.
func (c *Config) CallTimeout() time.Duration { return c.timeout }

// validAttachments returns GC's attachments from whichever key the runtime sent.
func (c *Config) validAttachments() []wire.Attachment {
	src := c.ValidAttachments
	if len(src) == 0 {
		src = c.Attachments
	}
	out := make([]wire.Attachment, 0, len(src))
	for _, a := range src {
		out = append(out, wire.Attachment{ContainerID: a.ContainerID, IfName: a.IfName})
	}
	return out
}

// dns is the configuration's DNS for the result, nil if it has none.
func (c *Config) dns() *wire.DNS {
	if c.DNS.IsEmpty() {
		return nil
	}
	return &wire.DNS{Nameservers: c.DNS.Nameservers, Domain: c.DNS.Domain, Search: c.DNS.Search, Options: c.DNS.Options}
}

func invalidConfig(field, format string, args ...any) *types.Error {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = field + ": " + msg
	}
	return types.NewError(types.ErrInvalidNetworkConfig, msg, "")
}

// maxSocketPath is the longest unix socket path (sun_path holds 108 bytes with the NUL);
// maxConfigName bounds a network configuration's name.
const (
	maxSocketPath = 107
	maxConfigName = 253
)

// largestMember names the largest top-level member of an oversized configuration and its size,
// "" if the configuration is not a JSON object.
func largestMember(stdin []byte) (string, int) {
	var m map[string]json.RawMessage
	if json.Unmarshal(stdin, &m) != nil {
		return "", 0
	}
	best, size := "", 0
	for k, v := range m {
		if len(v) > size || len(v) == size && k < best {
			best, size = k, len(v)
		}
	}
	return clip(best), size
}

// clip bounds a configuration value echoed in an error, so a huge value makes a short message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
