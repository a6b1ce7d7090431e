package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// podSummary is one pod of `pod get`'s list, gathered from the ports: the API has no list of pods.
type podSummary struct {
	model.PodRef
	Tenant string       `json:"tenant"`
	Node   string       `json:"node,omitempty"`
	Ports  []model.Port `json:"ports"`
}

// podList is `pod get -o json|yaml` without a UID.
type podList struct {
	Pods []podSummary `json:"pods"`
}

// podsOf groups ports by pod, in the order the ports come (the manager sorts them by pod UID).
func podsOf(ports []model.Port) []podSummary {
	out := []podSummary{}
	index := map[string]int{}
	for _, p := range ports {
		i, ok := index[p.Pod.UID]
		if !ok {
			i = len(out)
			index[p.Pod.UID] = i
			out = append(out, podSummary{PodRef: p.Pod, Tenant: p.Tenant, Node: p.Node})
		}
		out[i].Ports = append(out[i].Ports, p)
	}
	return out
}

func podCmd(a *app) *cobra.Command {
	cmd := group("pod", "Pods' allocations: allocate, bind and release a pod's ports by hand", "pods")
	var node string
	get := &cobra.Command{
		Use:   "get [UID] [--node NODE]",
		Short: "List the pods that hold ports (of --tenant, or on --node), or show one",
		RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
			uid, err := optArg(args, "UID")
			if err != nil {
				return err
			}
			if uid != "" {
				p, err := cl.GetPod(cmd.Context(), uid)
				if err != nil {
					return err
				}
				return a.emit(p, func() *table {
					return podTable([]podSummary{{PodRef: p.PodRef, Tenant: p.Tenant, Node: p.Node, Ports: p.Ports}})
				})
			}
			tenant, err := a.defaultTenant()
			if err != nil {
				return err
			}
			ports, err := cl.ListPorts(cmd.Context(), httpapi.PortQuery{Tenant: tenant, Node: node})
			if err != nil {
				return err
			}
			pods := podsOf(ports)
			return a.emit(podList{Pods: pods}, func() *table { return podTable(pods) })
		}),
	}
	get.Flags().StringVar(&node, "node", "", "only the pods bound to this node")
	cmd.AddCommand(get,
		&cobra.Command{
			Use:   "describe UID",
			Short: "Show a pod's allocation: its request and every port",
			RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
				uid, err := oneArg(args, "UID")
				if err != nil {
					return err
				}
				p, err := cl.GetPod(cmd.Context(), uid)
				if err != nil {
					return err
				}
				if a.flags.output != outTable {
					return encode(a.out, a.flags.output, p)
				}
				return describePod(a.out, p)
			}),
		},
		podAllocateCmd(a),
		podBindCmd(a),
		&cobra.Command{
			Use:     "release UID",
			Aliases: []string{"delete"},
			Short:   "Release a pod's ports (their addresses cool down before reuse)",
			RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
				uid, err := oneArg(args, "UID")
				if err != nil {
					return err
				}
				if err := model.ValidateUID("UID", uid); err != nil {
					return err
				}
				// The API answers a release of a UID without ports with success, as for one
				// released already; the command says what it did, so it looks first.
				p, err := cl.GetPod(cmd.Context(), uid)
				if model.CodeOf(err) == model.CodeNotFound {
					return model.Errorf(model.CodeNotFound, "UID", "pod %s has no ports (released already, or never allocated); nothing was released", uid)
				}
				if err != nil {
					return err
				}
				if err := cl.ReleasePod(cmd.Context(), uid); err != nil {
					return err
				}
				n := len(p.Ports)
				unit := "ports"
				if n == 1 {
					unit = "port"
				}
				return a.done(nil, "pod %s released: %d %s", uid, n, unit)
			}),
		},
	)
	return cmd
}

func podAllocateCmd(a *app) *cobra.Command {
	var (
		uid, namespace, name, owner, file string
		networks                          []string
	)
	cmd := &cobra.Command{
		Use:   "allocate --uid UID [--namespace NS] [--name NAME] [--network [TENANT/]NET[@IFACE][,OPTION...]]... | -f FILE",
		Short: "Allocate a pod's ports by hand (idempotent by UID), as knitter-monitor does",
		Long: `Allocate a pod's ports by hand, as knitter-monitor does for real pods. The call is idempotent:
the same UID with the same request answers the same ports.

Each --network is [TENANT/]NETWORK[@IFACE][,ip=ADDR][,mac=MAC][,ip-group=GROUP][,default-route].
Interfaces left out are eth0 for the first, then net1, net2, ... With no --network the pod gets its
tenant's default network as eth0. The pod's tenant is --tenant, else its namespace.`,
		Example: `  knitterctl pod allocate --uid 7f3c --namespace demo --name web-0 --network demo-overlay
  knitterctl pod allocate --uid 7f3d --namespace demo --name db-0 \
      --network demo-overlay@eth0 --network admin/shared@net1,ip=10.100.0.50`,
		RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
			var req alloc.PodRequest
			if file != "" {
				if err := fileExcludes(cmd, args, "uid", "namespace", "name", "owner", "network"); err != nil {
					return err
				}
				if err := a.readObject(file, &req); err != nil {
					return err
				}
			} else {
				if len(args) > 0 {
					return usageErr("UID", "give the pod's UID with --uid, not as the argument %q", args[0])
				}
				tenant, err := a.defaultTenant()
				if err != nil {
					return err
				}
				req, err = podRequest(uid, namespace, name, owner, tenant, networks)
				if err != nil {
					return err
				}
				if len(req.Requests) == 0 {
					t, err := cl.GetTenant(cmd.Context(), req.Tenant)
					if err != nil {
						return err
					}
					if t.DefaultNetwork == "" {
						return usageErr("--network", "is missing and tenant %s has no default network; give one, e.g. --network net1", req.Tenant)
					}
					req.Requests = []model.AttachRequest{{Network: t.DefaultNetwork, Interface: "eth0"}}
				}
			}
			pod, created, err := cl.AllocatePod(cmd.Context(), req)
			if err != nil {
				return err
			}
			if a.flags.output != outTable {
				return encode(a.out, a.flags.output, pod)
			}
			what := "allocated"
			if !created {
				what = "was already allocated (same request)"
			}
			fmt.Fprintf(a.err, "pod %s (%s/%s) %s\n", pod.UID, pod.Namespace, pod.Name, what)
			return portTable(pod.Ports).write(a.out)
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&uid, "uid", "", "the pod's UID (the allocation's identity)")
	fl.StringVar(&namespace, "namespace", "", "the pod's namespace (default: its tenant)")
	fl.StringVar(&name, "name", "", "the pod's name (default: its UID)")
	fl.StringVar(&owner, "owner", "", "sticky owner key, e.g. statefulset/demo/web/0: the same owner gets its addresses back")
	fl.StringArrayVar(&networks, "network", nil, "an interface: [TENANT/]NET[@IFACE][,ip=A][,mac=M][,ip-group=G][,default-route] (repeatable)")
	addFileFlag(cmd, &file, "pod request (pod, tenant, owner, requests)")
	return cmd
}

// podRequest builds the allocation request of the flags. tenant is the default tenant ("" means
// the namespace); an empty request list means "the tenant's default network".
func podRequest(uid, namespace, name, owner, tenant string, networks []string) (alloc.PodRequest, error) {
	if uid == "" {
		return alloc.PodRequest{}, usageErr("--uid", "is missing; every allocation is keyed by the pod's UID")
	}
	switch {
	case namespace == "" && tenant == "":
		return alloc.PodRequest{}, usageErr("--namespace", "is missing; give the pod's namespace (or --tenant)")
	case namespace == "":
		namespace = tenant
	case tenant == "":
		tenant = namespace
	}
	if name == "" {
		name = uid
	}
	req := alloc.PodRequest{Pod: model.PodRef{UID: uid, Namespace: namespace, Name: name}, Tenant: tenant, Owner: owner}
	for _, s := range networks {
		q, err := parseAttach(s)
		if err != nil {
			return req, err
		}
		req.Requests = append(req.Requests, q)
	}
	fillInterfaces(req.Requests)
	return req, nil
}

func podBindCmd(a *app) *cobra.Command {
	var node string
	cmd := &cobra.Command{
		Use:   "bind UID --node NODE",
		Short: "Record the node a pod's ports were built on, as knitter-agent does",
		RunE: a.do(func(cmd *cobra.Command, cl *httpapi.Client, args []string) error {
			uid, err := oneArg(args, "UID")
			if err != nil {
				return err
			}
			if node == "" {
				return usageErr("--node", "is missing; name the node the pod runs on")
			}
			p, err := cl.BindPod(cmd.Context(), uid, node)
			if err != nil {
				return err
			}
			if a.flags.output != outTable {
				return encode(a.out, a.flags.output, p)
			}
			fmt.Fprintf(a.err, "pod %s bound to node %s\n", p.UID, node)
			return portTable(p.Ports).write(a.out)
		}),
	}
	cmd.Flags().StringVar(&node, "node", "", "the node's name")
	return cmd
}
