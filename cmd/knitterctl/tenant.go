package main

import (
	"github.com/spf13/cobra"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/model"
)

// tenantFlags are the fields of a tenant that create and update set.
type tenantFlags struct {
	admin          bool
	defaultNetwork string
	quotaNetworks  int
	quotaPorts     int
}

func (f *tenantFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.admin, "admin", false, "an admin tenant: may create public networks and act on every tenant")
	fl.StringVar(&f.defaultNetwork, "default-network", "", "network a pod gets as eth0 when it asks for none (own or public)")
	fl.IntVar(&f.quotaNetworks, "quota-networks", 0, "most networks the tenant may hold (0: unlimited)")
	fl.IntVar(&f.quotaPorts, "quota-ports", 0, "most ports the tenant may hold (0: unlimited)")
}

var tenantFields = []string{"admin", "default-network", "quota-networks", "quota-ports"}

// apply sets the fields whose flags were given on t, and checks the result.
func (f *tenantFlags) apply(cmd *cobra.Command, t *model.Tenant) error {
	set := cmd.Flags().Changed
	if set("admin") {
		t.Admin = f.admin
	}
	if set("default-network") {
		t.DefaultNetwork = f.defaultNetwork
	}
	if set("quota-networks") {
		t.Quota.Networks = f.quotaNetworks
	}
	if set("quota-ports") {
		t.Quota.Ports = f.quotaPorts
	}
	return flagErr(t.Validate(), map[string]string{
		"name": "TENANT", "default_network": "--default-network",
		"quota.networks": "--quota-networks", "quota.ports": "--quota-ports",
	})
}

func tenantCmd(a *app) *cobra.Command {
	cmd := group("tenant", "Tenants: who owns networks, IP groups and ports, with quotas", "tenants")
	cmd.AddCommand(
		&cobra.Command{
			Use:   "get [TENANT]",
			Short: "List tenants, or show one",
			RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
				name, err := optArg(args, "TENANT")
				if err != nil {
					return err
				}
				if name == "" {
					ts, err := cl.ListTenants(cmd.Context())
					if err != nil {
						return err
					}
					return a.emit(httpapi.TenantList{Tenants: ts}, func() *table { return tenantTable(ts) })
				}
				t, err := cl.GetTenant(cmd.Context(), name)
				if err != nil {
					return err
				}
				return a.emit(t, func() *table { return tenantTable([]httpapi.TenantInfo{t}) })
			}),
		},
		&cobra.Command{
			Use:   "describe TENANT",
			Short: "Show a tenant with its quota and usage",
			RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
				name, err := oneArg(args, "TENANT")
				if err != nil {
					return err
				}
				t, err := cl.GetTenant(cmd.Context(), name)
				if err != nil {
					return err
				}
				if a.flags.output != outTable {
					return encode(a.out, a.flags.output, t)
				}
				return describeTenant(a.out, t)
			}),
		},
		tenantCreateCmd(a),
		tenantUpdateCmd(a),
		&cobra.Command{
			Use:   "delete TENANT",
			Short: "Delete a tenant that owns nothing",
			RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
				name, err := oneArg(args, "TENANT")
				if err != nil {
					return err
				}
				if err := cl.DeleteTenant(cmd.Context(), name); err != nil {
					return err
				}
				return a.done(nil, "tenant %s deleted", name)
			}),
		},
	)
	return cmd
}

func tenantCreateCmd(a *app) *cobra.Command {
	var f tenantFlags
	var file string
	cmd := &cobra.Command{
		Use:   "create TENANT [--admin] [--default-network NET] [--quota-networks N] [--quota-ports N] | -f FILE",
		Short: "Create a tenant (admin token)",
		Example: `  knitterctl tenant create acme --quota-networks 10 --quota-ports 500
  knitterctl tenant create -f acme.yaml`,
		RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
			var t model.Tenant
			if file != "" {
				if err := fileExcludes(cmd, args, tenantFields...); err != nil {
					return err
				}
				if err := a.readObject(file, &t); err != nil {
					return err
				}
			} else {
				name, err := oneArg(args, "TENANT")
				if err != nil {
					return err
				}
				t.Name = name
				if err := f.apply(cmd, &t); err != nil {
					return err
				}
			}
			out, err := cl.CreateTenant(cmd.Context(), t)
			if err != nil {
				return err
			}
			return a.done(out, "tenant %s created", out.Name)
		}),
	}
	f.add(cmd)
	addFileFlag(cmd, &file, "tenant")
	return cmd
}

func tenantUpdateCmd(a *app) *cobra.Command {
	var f tenantFlags
	cmd := &cobra.Command{
		Use:   "update TENANT [--admin=BOOL] [--default-network NET] [--quota-networks N] [--quota-ports N]",
		Short: "Change a tenant's quota, admin flag or default network; fields not given stay",
		Example: `  knitterctl tenant update acme --quota-ports 1000
  knitterctl tenant update acme --default-network ""   # no default network`,
		RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
			name, err := oneArg(args, "TENANT")
			if err != nil {
				return err
			}
			changed := false
			for _, fl := range tenantFields {
				changed = changed || cmd.Flags().Changed(fl)
			}
			if !changed {
				return usageErr("flags", "nothing to change; give --admin, --default-network, --quota-networks or --quota-ports")
			}
			cur, err := cl.GetTenant(cmd.Context(), name)
			if err != nil {
				return err
			}
			t := cur.Tenant
			if err := f.apply(cmd, &t); err != nil {
				return err
			}
			out, err := cl.UpdateTenant(cmd.Context(), t)
			if err != nil {
				return err
			}
			return a.done(out, "tenant %s updated", out.Name)
		}),
	}
	f.add(cmd)
	return cmd
}
