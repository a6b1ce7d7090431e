package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"sigs.k8s.io/yaml"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/model"
)

// bootstrap is knitter-manager's --bootstrap file: objects to create when missing.
type bootstrap struct {
	Tenants  []model.Tenant  `json:"tenants,omitempty"`
	Networks []model.Network `json:"networks,omitempty"`
	IPGroups []model.IPGroup `json:"ipgroups,omitempty"`
}

// ApplyBootstrap creates the file's objects through the manager's API, as an operator would with
// knitterctl; objects that exist already are left alone.
func ApplyBootstrap(ctx context.Context, c *httpapi.Client, file string) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	j, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return fmt.Errorf("bootstrap %s: %w", file, err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	var b bootstrap
	if err := dec.Decode(&b); err != nil {
		return fmt.Errorf("bootstrap %s: %w", file, err)
	}
	// A conflict is fine only when the object exists now (someone created it meanwhile); a network
	// whose segment or range another network holds is a conflict too, and an error.
	exists := func(err error, get func() error) bool { return errors.Is(err, model.ErrConflict) && get() == nil }
	for _, t := range b.Tenants {
		if _, err := c.GetTenant(ctx, t.Name); err == nil {
			continue
		}
		get := func() error { _, err := c.GetTenant(ctx, t.Name); return err }
		if _, err := c.CreateTenant(ctx, t); err != nil && !exists(err, get) {
			return fmt.Errorf("bootstrap tenant %s: %w", t.Name, err)
		}
	}
	for _, n := range b.Networks {
		if _, err := c.GetNetwork(ctx, n.Tenant, n.Name); err == nil {
			continue
		}
		get := func() error { _, err := c.GetNetwork(ctx, n.Tenant, n.Name); return err }
		if _, err := c.CreateNetwork(ctx, n); err != nil && !exists(err, get) {
			return fmt.Errorf("bootstrap network %s/%s: %w", n.Tenant, n.Name, err)
		}
	}
	for _, g := range b.IPGroups {
		if _, err := c.GetIPGroup(ctx, g.Tenant, g.Name); err == nil {
			continue
		}
		get := func() error { _, err := c.GetIPGroup(ctx, g.Tenant, g.Name); return err }
		if _, err := c.CreateIPGroup(ctx, g); err != nil && !exists(err, get) {
			return fmt.Errorf("bootstrap IP group %s/%s: %w", g.Tenant, g.Name, err)
		}
	}
	return nil
}
