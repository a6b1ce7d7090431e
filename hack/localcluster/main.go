// Command localcluster brings a whole Knitter installation up on this machine, for the README's quick
// start and for poking at by hand: knitter-manager on an embedded etcd, N nodes that are network
// namespaces joined by a veth underlay, one knitter-agent per node, and a demo pod on each node
// attached through knitter-plugin as a container runtime would call it.
//
//	go run ./hack/localcluster up      # build, start, create the demo pods, ping across nodes
//	go run ./hack/localcluster status  # what runs, the pods' interfaces
//	go run ./hack/localcluster down    # remove everything
//
// It uses the e2e suite's local driver (e2e/cluster/local); the cluster's state lives in --dir, so
// `down` in another process finds and removes it all.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// defaultDir is where the cluster keeps its state unless --dir says otherwise.
const defaultDir = "/tmp/knitter-local"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "localcluster:", err)
		os.Exit(1)
	}
}

type options struct {
	dir       string
	nodes     int
	bootstrap string
}

func newCommand() *cobra.Command {
	var o options
	root := &cobra.Command{
		Use:           "localcluster",
		Short:         "Run Knitter on this machine: a manager, node namespaces with agents, demo pods",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&o.dir, "dir", defaultDir, "directory of the cluster's state, binaries and logs")
	up := &cobra.Command{
		Use:   "up",
		Short: "Build, start the cluster, create a demo pod on each node and ping across nodes",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runUp(cmd.Context(), cmd.OutOrStdout(), o) },
	}
	up.Flags().IntVar(&o.nodes, "nodes", 2, "number of nodes")
	up.Flags().StringVar(&o.bootstrap, "bootstrap", "", "the manager's bootstrap file (default examples/bootstrap.yaml)")
	root.AddCommand(up,
		&cobra.Command{
			Use:   "down",
			Short: "Remove the cluster: pods, agents, manager, namespaces and its directory",
			Args:  cobra.NoArgs,
			RunE:  func(cmd *cobra.Command, _ []string) error { return runDown(cmd.Context(), cmd.OutOrStdout(), o) },
		},
		&cobra.Command{
			Use:   "status",
			Short: "Show what runs and each pod's interfaces",
			Args:  cobra.NoArgs,
			RunE:  func(cmd *cobra.Command, _ []string) error { return runStatus(cmd.OutOrStdout(), o) },
		},
	)
	return root
}
