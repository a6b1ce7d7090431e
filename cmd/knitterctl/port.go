package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/model"
)

func portCmd(a *app) *cobra.Command {
	cmd := group("port", "Ports: every pod interface with its addresses, MAC and node", "ports")
	var q httpapi.PortQuery
	get := &cobra.Command{
		Use:   "get [PORT-ID] [--tenant T] [--network NET] [--node NODE] [--pod UID]",
		Short: "List ports, filtered; or show one by its ID (<pod uid>/<interface>)",
		RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
			id, err := optArg(args, "PORT-ID")
			if err != nil {
				return err
			}
			ports, err := a.listPorts(cmd, cl, q, id)
			if err != nil {
				return err
			}
			if id != "" {
				return a.emit(ports[0], func() *table { return portTable(ports) })
			}
			return a.emit(httpapi.PortList{Ports: ports}, func() *table { return portTable(ports) })
		}),
	}
	fl := get.Flags()
	fl.StringVar(&q.Network, "network", "", "only ports on this network (tenant/name, or a name of --tenant)")
	fl.StringVar(&q.Node, "node", "", "only ports bound to this node")
	fl.StringVar(&q.Pod, "pod", "", "only the ports of this pod UID")
	cmd.AddCommand(get, &cobra.Command{
		Use:   "describe PORT-ID",
		Short: "Show one port (its ID is <pod uid>/<interface>)",
		RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
			id, err := oneArg(args, "PORT-ID")
			if err != nil {
				return err
			}
			ports, err := a.listPorts(cmd, cl, httpapi.PortQuery{}, id)
			if err != nil {
				return err
			}
			if a.flags.output != outTable {
				return encode(a.out, a.flags.output, ports[0])
			}
			return describePort(a.out, ports[0])
		}),
	})
	return cmd
}

// listPorts lists the ports of q, or with an id the one port of that ID (an error if missing).
func (a *app) listPorts(cmd *cobra.Command, cl *httpapi.Client, q httpapi.PortQuery, id string) ([]model.Port, error) {
	tenant, err := a.defaultTenant()
	if err != nil {
		return nil, err
	}
	q.Tenant = tenant
	if id != "" {
		uid, _, ok := cutLast(id, "/")
		if !ok {
			return nil, usageErr("PORT-ID", "%q is not a port ID; port IDs are <pod uid>/<interface>", id)
		}
		if q.Pod != "" && q.Pod != uid {
			return nil, usageErr("--pod", "is %s but the port ID names pod %s", q.Pod, uid)
		}
		q.Pod = uid
	}
	ports, err := cl.ListPorts(cmd.Context(), q)
	if err != nil || id == "" {
		return ports, err
	}
	for _, p := range ports {
		if p.ID == id {
			return []model.Port{p}, nil
		}
	}
	return nil, model.Errorf(model.CodeNotFound, "PORT-ID", "port %s does not exist (or is not yours to see); 'knitterctl port get --pod UID' lists a pod's ports", id)
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
