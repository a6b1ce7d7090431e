package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"sigs.k8s.io/yaml"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/manager"
)

// Bootstrap is a file of objects to create at start when they do not exist yet, so a new cluster
// comes up with its tenants and networks (the README's quick start uses one).
type Bootstrap struct {
	Tenants  []model.Tenant  `json:"tenants,omitempty"`
	Networks []model.Network `json:"networks,omitempty"`
	IPGroups []model.IPGroup `json:"ipgroups,omitempty"`
}

func loadBootstrap(path string) (*Bootstrap, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	j, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("bootstrap %s: not valid YAML: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	var b Bootstrap
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("bootstrap %s: %w", path, err)
	}
	return &b, nil
}

// apply creates every object that is missing; existing ones are left as they are.
func (b *Bootstrap) apply(ctx context.Context, m *manager.Manager, log *slog.Logger) error {
	var cmds []alloc.Command
	for _, t := range b.Tenants {
		cmds = append(cmds, alloc.CreateTenantCmd{Tenant: t})
	}
	for _, n := range b.Networks {
		cmds = append(cmds, alloc.CreateNetworkCmd{Network: n})
	}
	for _, g := range b.IPGroups {
		cmds = append(cmds, alloc.CreateIPGroupCmd{IPGroup: g})
	}
	created := 0
	for i, c := range cmds {
		_, err := m.Do(ctx, c)
		switch {
		case err == nil:
			created++
		case errors.Is(err, model.ErrConflict) && isAlreadyExists(c, m):
		default:
			return fmt.Errorf("bootstrap object %d (%s): %w", i, c.Op(), err)
		}
	}
	log.Info("bootstrap applied", "objects", len(cmds), "created", created)
	return nil
}

// isAlreadyExists tells "exists" conflicts (fine) from others, such as an overlapping subnet.
func isAlreadyExists(c alloc.Command, m *manager.Manager) bool {
	var exists bool
	_ = m.View(func(s *alloc.State) {
		switch c := c.(type) {
		case alloc.CreateTenantCmd:
			_, exists = s.Tenant(c.Tenant.Name)
		case alloc.CreateNetworkCmd:
			_, exists = s.Network(c.Network.Tenant, c.Network.Name)
		case alloc.CreateIPGroupCmd:
			_, exists = s.IPGroup(c.IPGroup.Tenant, c.IPGroup.Name)
		}
	})
	return exists
}
