package main

import (
	"net/netip"
	"slices"

	"github.com/spf13/cobra"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/model"
)

func ipgroupCmd(a *app) *cobra.Command {
	cmd := group("ipgroup", "IP groups: named sets of fixed addresses on a network", "ipgroups", "ipg")
	var network string
	get := &cobra.Command{
		Use:   "get [TENANT/GROUP] [--network NET]",
		Short: "List IP groups (of --tenant, else of every tenant you may see), or show one",
		RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
			arg, err := optArg(args, "GROUP")
			if err != nil {
				return err
			}
			if arg != "" {
				tenant, name, err := a.objectName("GROUP", arg)
				if err != nil {
					return err
				}
				g, err := cl.GetIPGroup(cmd.Context(), tenant, name)
				if err != nil {
					return err
				}
				return a.emit(g, func() *table { return ipgroupTable([]model.IPGroup{g}) })
			}
			tenant, err := a.defaultTenant()
			if err != nil {
				return err
			}
			tenants := []string{tenant}
			if tenant == "" {
				ts, err := cl.ListTenants(cmd.Context())
				if err != nil {
					return err
				}
				tenants = tenants[:0]
				for _, t := range ts {
					tenants = append(tenants, t.Name)
				}
			}
			all := []model.IPGroup{}
			for _, t := range tenants {
				gs, err := cl.ListIPGroups(cmd.Context(), t, network)
				if err != nil {
					return err
				}
				all = append(all, gs...)
			}
			return a.emit(httpapi.IPGroupList{IPGroups: all}, func() *table { return ipgroupTable(all) })
		}),
	}
	get.Flags().StringVar(&network, "network", "", "only the groups of this network")
	cmd.AddCommand(get,
		&cobra.Command{
			Use:   "describe TENANT/GROUP",
			Short: "Show an IP group's addresses and the ports that use them",
			RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
				arg, err := oneArg(args, "GROUP")
				if err != nil {
					return err
				}
				tenant, name, err := a.objectName("GROUP", arg)
				if err != nil {
					return err
				}
				g, err := cl.GetIPGroup(cmd.Context(), tenant, name)
				if err != nil {
					return err
				}
				if a.flags.output != outTable {
					return encode(a.out, a.flags.output, g)
				}
				ports, err := cl.ListPorts(cmd.Context(), httpapi.PortQuery{Network: g.Tenant + "/" + g.Network})
				if err != nil {
					return err
				}
				return describeIPGroup(a.out, g, ports)
			}),
		},
		ipgroupCreateCmd(a),
		ipgroupUpdateCmd(a),
		&cobra.Command{
			Use:   "delete TENANT/GROUP",
			Short: "Delete an IP group that no port uses",
			RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
				arg, err := oneArg(args, "GROUP")
				if err != nil {
					return err
				}
				tenant, name, err := a.objectName("GROUP", arg)
				if err != nil {
					return err
				}
				if err := cl.DeleteIPGroup(cmd.Context(), tenant, name); err != nil {
					return err
				}
				return a.done(nil, "ipgroup %s/%s deleted", tenant, name)
			}),
		},
	)
	return cmd
}

var ipgroupFlagNames = map[string]string{"name": "GROUP", "network": "--network", "ips": "--ip", "size": "--size"}

func ipgroupCreateCmd(a *app) *cobra.Command {
	var (
		network, file string
		ips           []string
		size          int
	)
	cmd := &cobra.Command{
		Use:   "create TENANT/GROUP --network NET (--ip IP[-IP]... | --size N) | -f FILE",
		Short: "Create an IP group from listed addresses, or of a size the manager fills",
		Example: `  knitterctl ipgroup create demo/frontends --network net1 --ip 10.1.0.200,10.1.0.201
  knitterctl ipgroup create demo/workers --network net1 --ip 10.1.0.50-10.1.0.59
  knitterctl ipgroup create demo/pool --network net1 --size 8`,
		RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
			var g model.IPGroup
			if file != "" {
				if err := fileExcludes(cmd, args, "network", "ip", "size"); err != nil {
					return err
				}
				if err := a.readObject(file, &g); err != nil {
					return err
				}
				if g.Tenant == "" {
					t, err := a.defaultTenant()
					if err != nil {
						return err
					}
					if g.Tenant = t; t == "" {
						return usageErr("tenant", "%s names no tenant; add tenant: to the file or pass --tenant", file)
					}
				}
			} else {
				arg, err := oneArg(args, "GROUP")
				if err != nil {
					return err
				}
				if g.Tenant, g.Name, err = a.objectName("GROUP", arg); err != nil {
					return err
				}
				if network == "" {
					return usageErr("--network", "is missing; name the network the group's addresses belong to")
				}
				g.Network, g.Size = network, size
				if g.IPs, err = parseIPs("--ip", ips); err != nil {
					return err
				}
				if err := flagErr(g.Validate(), ipgroupFlagNames); err != nil {
					return err
				}
			}
			out, err := cl.CreateIPGroup(cmd.Context(), g)
			if err != nil {
				return err
			}
			return a.done(out, "ipgroup %s created with %d addresses", out.Key(), len(out.IPs))
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&network, "network", "", "network of the group (of the group's tenant)")
	fl.StringSliceVar(&ips, "ip", nil, "addresses or start-end ranges of the group (repeatable)")
	fl.IntVar(&size, "size", 0, "allocate this many addresses from the network's pool instead")
	addFileFlag(cmd, &file, "IP group")
	return cmd
}

func ipgroupUpdateCmd(a *app) *cobra.Command {
	var ips, add, remove []string
	cmd := &cobra.Command{
		Use:   "update TENANT/GROUP (--ip IP[-IP]... | --add-ip IP[-IP]... | --remove-ip IP[-IP]...)",
		Short: "Change an IP group's addresses; addresses in use by ports must stay",
		Example: `  knitterctl ipgroup update demo/frontends --add-ip 10.1.0.202
  knitterctl ipgroup update demo/frontends --ip 10.1.0.200-10.1.0.209`,
		RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
			arg, err := oneArg(args, "GROUP")
			if err != nil {
				return err
			}
			tenant, name, err := a.objectName("GROUP", arg)
			if err != nil {
				return err
			}
			set := cmd.Flags().Changed
			switch {
			case set("ip") && (set("add-ip") || set("remove-ip")):
				return usageErr("--ip", "replaces the whole list; do not combine it with --add-ip or --remove-ip")
			case !set("ip") && !set("add-ip") && !set("remove-ip"):
				return usageErr("flags", "nothing to change; give --ip, --add-ip or --remove-ip")
			}
			cur, err := cl.GetIPGroup(cmd.Context(), tenant, name)
			if err != nil {
				return err
			}
			g, err := editIPs(cur, ips, add, remove, set("ip"))
			if err != nil {
				return err
			}
			out, err := cl.UpdateIPGroup(cmd.Context(), g)
			if err != nil {
				return err
			}
			return a.done(out, "ipgroup %s updated: %d addresses", out.Key(), len(out.IPs))
		}),
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&ips, "ip", nil, "the group's new address list: addresses or start-end ranges")
	fl.StringSliceVar(&add, "add-ip", nil, "addresses or ranges to add")
	fl.StringSliceVar(&remove, "remove-ip", nil, "addresses or ranges to remove")
	return cmd
}

// editIPs returns g with its address list replaced (replace) or edited by add and remove.
func editIPs(g model.IPGroup, ips, add, remove []string, replace bool) (model.IPGroup, error) {
	g.Size = 0
	if replace {
		list, err := parseIPs("--ip", ips)
		if err != nil {
			return g, err
		}
		g.IPs = list
		return g, flagErr(g.Validate(), ipgroupFlagNames)
	}
	plus, err := parseIPs("--add-ip", add)
	if err != nil {
		return g, err
	}
	minus, err := parseIPs("--remove-ip", remove)
	if err != nil {
		return g, err
	}
	for _, ip := range minus {
		if !slices.Contains(g.IPs, ip) {
			return g, usageErr("--remove-ip", "%s is not in group %s", ip, g.Key())
		}
	}
	list := slices.DeleteFunc(slices.Clone(g.IPs), func(ip netip.Addr) bool { return slices.Contains(minus, ip) })
	for _, ip := range plus {
		if slices.Contains(list, ip) {
			return g, usageErr("--add-ip", "%s is already in group %s", ip, g.Key())
		}
		list = append(list, ip)
	}
	if len(list) == 0 {
		return g, usageErr("--remove-ip", "would leave group %s empty; delete the group instead", g.Key())
	}
	g.IPs = list
	return g, flagErr(g.Validate(), map[string]string{"ips": "--add-ip"})
}

// parseIPs expands addresses and start-end ranges, in order, up to the largest group.
func parseIPs(flag string, items []string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, s := range items {
		r, err := parseRange(flag, s)
		if err != nil {
			return nil, err
		}
		for ip := r.Start; ; ip = ip.Next() {
			if len(out) == model.MaxIPGroupSize {
				return nil, usageErr(flag, "lists more than %d addresses, the most a group may hold", model.MaxIPGroupSize)
			}
			out = append(out, ip)
			if ip == r.End {
				break
			}
		}
	}
	return out, nil
}
