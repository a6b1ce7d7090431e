package main

import (
	"github.com/spf13/cobra"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/model"
)

func networkCmd(a *app) *cobra.Command {
	cmd := group("network", "Networks: overlay, vlan, macvlan and sriov segments with their subnets", "networks", "net")
	cmd.AddCommand(
		&cobra.Command{
			Use:   "get [TENANT/NETWORK]",
			Short: "List the networks you may see (narrowed by --tenant), or show one",
			RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
				arg, err := optArg(args, "NETWORK")
				if err != nil {
					return err
				}
				if arg == "" {
					tenant, err := a.defaultTenant()
					if err != nil {
						return err
					}
					ns, err := cl.ListNetworks(cmd.Context(), tenant)
					if err != nil {
						return err
					}
					return a.emit(httpapi.NetworkList{Networks: ns}, func() *table { return networkTable(ns) })
				}
				tenant, name, err := a.objectName("NETWORK", arg)
				if err != nil {
					return err
				}
				n, err := cl.GetNetwork(cmd.Context(), tenant, name)
				if err != nil {
					return err
				}
				return a.emit(n, func() *table { return networkTable([]model.Network{n.Network}) })
			}),
		},
		&cobra.Command{
			Use:   "describe TENANT/NETWORK",
			Short: "Show a network with its subnets and pool usage",
			RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
				arg, err := oneArg(args, "NETWORK")
				if err != nil {
					return err
				}
				tenant, name, err := a.objectName("NETWORK", arg)
				if err != nil {
					return err
				}
				n, err := cl.GetNetwork(cmd.Context(), tenant, name)
				if err != nil {
					return err
				}
				if a.flags.output != outTable {
					return encode(a.out, a.flags.output, n)
				}
				return describeNetwork(a.out, n)
			}),
		},
		networkCreateCmd(a),
		&cobra.Command{
			Use:   "delete TENANT/NETWORK",
			Short: "Delete a network that no port or IP group uses",
			RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
				arg, err := oneArg(args, "NETWORK")
				if err != nil {
					return err
				}
				tenant, name, err := a.objectName("NETWORK", arg)
				if err != nil {
					return err
				}
				if err := cl.DeleteNetwork(cmd.Context(), tenant, name); err != nil {
					return err
				}
				return a.done(nil, "network %s/%s deleted", tenant, name)
			}),
		},
	)
	return cmd
}

func networkCreateCmd(a *app) *cobra.Command {
	var f networkFlags
	var file string
	cmd := &cobra.Command{
		Use:   "create TENANT/NETWORK --type TYPE (--ipv4 CIDR | --ipv6 CIDR) [flags] | -f FILE",
		Short: "Create a network",
		Example: `  knitterctl network create demo/net1 --type overlay --ipv4 10.1.0.0/24 --gateway 10.1.0.1
  knitterctl network create demo/storage --type vlan --vlan 200 --physical-network eth1 \
      --ipv4 10.2.0.0/24 --range 10.2.0.100-10.2.0.199 --route 192.168.0.0/16=10.2.0.254
  knitterctl network create -f net.yaml`,
		RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
			n, err := a.networkToCreate(cmd, &f, file, args)
			if err != nil {
				return err
			}
			out, err := cl.CreateNetwork(cmd.Context(), n)
			if err != nil {
				return err
			}
			return a.done(out, "network %s created", out.Key())
		}),
	}
	f.add(cmd)
	addFileFlag(cmd, &file, "network")
	return cmd
}

// networkToCreate builds the network from the file or from the flags.
func (a *app) networkToCreate(cmd *cobra.Command, f *networkFlags, file string, args []string) (model.Network, error) {
	if file == "" {
		arg, err := oneArg(args, "NETWORK")
		if err != nil {
			return model.Network{}, err
		}
		tenant, name, err := a.objectName("NETWORK", arg)
		if err != nil {
			return model.Network{}, err
		}
		return f.network(tenant, name)
	}
	var n model.Network
	if err := fileExcludes(cmd, args, networkFields...); err != nil {
		return n, err
	}
	if err := a.readObject(file, &n); err != nil {
		return n, err
	}
	if n.Tenant == "" {
		var err error
		if n.Tenant, err = a.defaultTenant(); err != nil {
			return n, err
		}
		if n.Tenant == "" {
			return n, usageErr("tenant", "%s names no tenant; add tenant: to the file or pass --tenant", file)
		}
	}
	return n, nil
}
