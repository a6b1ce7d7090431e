package main

import (
	"net/netip"

	"github.com/spf13/cobra"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/model"
)

func nodeCmd(a *app) *cobra.Command {
	cmd := group("node", "Nodes: hosts running knitter-agent, with their VXLAN endpoints (admin and system tokens)", "nodes")
	cmd.AddCommand(
		&cobra.Command{
			Use:   "get [NODE]",
			Short: "List registered nodes, or show one",
			RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
				name, err := optArg(args, "NODE")
				if err != nil {
					return err
				}
				if name == "" {
					ns, err := cl.ListNodes(cmd.Context())
					if err != nil {
						return err
					}
					return a.emit(httpapi.NodeList{Nodes: ns}, func() *table { return nodeTable(ns) })
				}
				n, err := cl.GetNode(cmd.Context(), name)
				if err != nil {
					return err
				}
				return a.emit(n, func() *table { return nodeTable([]model.Node{n}) })
			}),
		},
		&cobra.Command{
			Use:   "describe NODE",
			Short: "Show a node and the ports bound to it",
			RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
				name, err := oneArg(args, "NODE")
				if err != nil {
					return err
				}
				n, err := cl.GetNode(cmd.Context(), name)
				if err != nil {
					return err
				}
				if a.flags.output != outTable {
					return encode(a.out, a.flags.output, n)
				}
				ports, err := cl.ListPorts(cmd.Context(), httpapi.PortQuery{Node: name})
				if err != nil {
					return err
				}
				return describeNode(a.out, n, ports)
			}),
		},
		nodeCreateCmd(a),
		&cobra.Command{
			Use:   "delete NODE",
			Short: "Forget a node and release every pod bound to it",
			RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
				name, err := oneArg(args, "NODE")
				if err != nil {
					return err
				}
				if err := cl.DeleteNode(cmd.Context(), name); err != nil {
					return err
				}
				return a.done(nil, "node %s deleted", name)
			}),
		},
	)
	return cmd
}

func nodeCreateCmd(a *app) *cobra.Command {
	var vtep, file string
	cmd := &cobra.Command{
		Use:     "create NODE [--vtep IP] | -f FILE",
		Aliases: []string{"register"},
		Short:   "Register a node (or refresh its heartbeat), as knitter-agent does",
		Example: `  knitterctl node create worker-1 --vtep 192.168.10.11`,
		RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
			var n model.Node
			if file != "" {
				if err := fileExcludes(cmd, args, "vtep"); err != nil {
					return err
				}
				if err := a.readObject(file, &n); err != nil {
					return err
				}
			} else {
				name, err := oneArg(args, "NODE")
				if err != nil {
					return err
				}
				n.Name = name
				if vtep != "" {
					if n.VTEP, err = netip.ParseAddr(vtep); err != nil {
						return usageErr("--vtep", "%q is not an IP address; give the node's underlay address", vtep)
					}
				}
				if err := flagErr(n.Validate(), map[string]string{"name": "NODE", "vtep": "--vtep"}); err != nil {
					return err
				}
			}
			out, err := cl.RegisterNode(cmd.Context(), n)
			if err != nil {
				return err
			}
			return a.done(out, "node %s registered", out.Name)
		}),
	}
	cmd.Flags().StringVar(&vtep, "vtep", "", "the node's underlay address that VXLAN traffic goes to")
	addFileFlag(cmd, &file, "node")
	return cmd
}
