package netspec

import (
	"encoding/json"
	"strings"

	"github.com/knitter-cni/knitter/core/model"
)

// PluginType is the CNI "type" of knitter-plugin in a NetworkAttachmentDefinition's config.
const PluginType = "knitter"

// NADNetwork reads the spec.config of a NetworkAttachmentDefinition: a CNI configuration
// ({"cniVersion": "1.1.0", "type": "knitter", "network": "tenant/name"}) or a configuration list
// whose plugins include one of type knitter. It returns the Knitter network it selects: "network" is
// "tenant/name", or a bare name resolved in podTenant. ok is false when the definition is some other
// plugin's (Multus attaches those; Knitter allocates nothing for them). A knitter definition without a
// valid network is an error naming the field and the fix.
func NADNetwork(config string, podTenant string) (tenant, network string, ok bool, err error) {
	const field = "spec.config"
	var conf struct {
		Type    string            `json:"type"`
		Network string            `json:"network"`
		Plugins []json.RawMessage `json:"plugins"`
	}
	if strings.TrimSpace(config) == "" {
		return "", "", false, nil // a definition without config names a CNI file on the node: not ours to read
	}
	if err := json.Unmarshal([]byte(config), &conf); err != nil {
		return "", "", false, model.Invalid(field, "is not a JSON CNI configuration (%v); write {\"cniVersion\": \"1.1.0\", \"type\": \"knitter\", \"network\": \"tenant/name\"}", err)
	}
	if conf.Type == "" && len(conf.Plugins) > 0 {
		for _, raw := range conf.Plugins {
			var p struct {
				Type    string `json:"type"`
				Network string `json:"network"`
			}
			if json.Unmarshal(raw, &p) == nil && p.Type == PluginType {
				conf.Type, conf.Network = p.Type, p.Network
				break
			}
		}
	}
	if conf.Type != PluginType {
		return "", "", false, nil
	}
	if conf.Network == "" {
		return "", "", false, model.Invalid(field+".network", "is missing; a knitter attachment names its Knitter network, e.g. \"network\": \"tenant/net-a\"")
	}
	tenant, network, hasTenant := strings.Cut(conf.Network, "/")
	if !hasTenant {
		tenant, network = podTenant, conf.Network
	}
	if err := model.ValidateName(field+".network", network); err != nil {
		return "", "", false, err
	}
	if err := model.ValidateName(field+".network", tenant); err != nil {
		return "", "", false, model.Invalid(field+".network", "%q has a tenant that is not a valid name; write \"tenant/name\"", conf.Network)
	}
	return tenant, network, true, nil
}
