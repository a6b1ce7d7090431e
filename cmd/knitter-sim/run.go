package main

import (
	"fmt"

	"github.com/knitter-cni/knitter/sim"
	"github.com/spf13/cobra"
)

func runCommand() *cobra.Command {
	var (
		f     runFlags
		seed  uint64
		trace string
	)
	cmd := &cobra.Command{
		Use:   "run --seed N",
		Short: "Run one seed and print a summary and its trace hash",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.config(seed)
			if err != nil {
				return err
			}
			cfg.KeepTrace = trace != ""
			r := sim.Run(cfg)
			out := cmd.OutOrStdout()
			s := r.Stats
			fmt.Fprintf(out, "seed %d: %s  trace %s\n", cfg.Seed, r.Kind, r.Hash)
			fmt.Fprintf(out, "  events %d  pods created %d deleted %d  allocations %d releases %d retries %d  pods at end %d\n",
				s.Events, s.Created, s.Deleted, s.Allocated, s.Released, s.Retries, s.FinalPods)
			fmt.Fprintf(out, "  faults: manager crashes %d  failed writes %d  lost terms %d  outages %d  agent crashes %d  partitions %d  failovers %d\n",
				s.Crashes, s.WriteFaults, s.LostTerms, s.Outages, s.AgentCrashes, s.Partitions, s.Failovers)
			if cfg.Nodes > 0 {
				fmt.Fprintf(out, "  nodes: joined %d  removed %d  rebooted %d\n", s.NodesJoined, s.NodesRemoved, s.NodeReboots)
			}
			if cfg.NetworkChurn {
				fmt.Fprintf(out, "  networks: created %d  deleted %d  deletes refused %d  tenants deleted %d  ADDs on a missing network %d\n",
					s.NetworksCreated, s.NetworksDeleted, s.DeletesRefused, s.TenantsDeleted, s.MissingNetworkAdds)
			}
			if cfg.NetFaults {
				fmt.Fprintf(out, "  network: messages lost %d  partitions %d  most at once %d\n", s.MessagesLost, s.NetPartitions, s.MaxOverlap)
			}
			if cfg.NodeDrain && cfg.Nodes > 0 {
				fmt.Fprintf(out, "  drains: nodes drained %d  returned %d\n", s.NodesDrained, s.NodesReturned)
			}
			if cfg.StatefulSets {
				fmt.Fprintf(out, "  statefulsets: members given their held addresses %d  allocated before their predecessor's release %d\n", s.StickyTaken, s.StickyRaced)
			}
			if cfg.Monitor {
				fmt.Fprintf(out, "  kube faults: watch drops %d  conflicts %d  monitor crashes %d  relists %d  events delivered %d\n",
					s.WatchDrops, s.Conflicts, s.MonitorCrashes, s.Relists, s.Delivered)
			}
			return finish(cmd, trace, r.Trace, r.Kind, r.Err, cfg.Repro())
		},
	}
	cmd.Flags().Uint64Var(&seed, "seed", 1, "the seed: it decides every workload step, fault and timing")
	cmd.Flags().StringVar(&trace, "trace", "", "write every trace line to this file")
	f.register(cmd.Flags())
	return cmd
}
