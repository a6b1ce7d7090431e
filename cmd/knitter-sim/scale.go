package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/knitter-cni/knitter/sim"
	"github.com/spf13/cobra"
)

func scaleCommand() *cobra.Command {
	var (
		cfg     sim.ScaleConfig
		trace   string
		profile string
		memprof string
	)
	cmd := &cobra.Command{
		Use:   "scale --nodes N --pods P",
		Short: "Create P pods through CNI ADD on N nodes' real agents, delete them all, and print the wall time of each phase and the peak memory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return fmt.Errorf("--%w", err)
			}
			if profile != "" {
				f, err := os.Create(profile)
				if err != nil {
					return fmt.Errorf("--cpuprofile: %w", err)
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return fmt.Errorf("--cpuprofile: %w", err)
				}
				defer pprof.StopCPUProfile()
			}
			out := cmd.OutOrStdout()
			cfg.KeepTrace = trace != ""
			// The phases are timed here, outside the run: the simulator reads no clock.
			start := time.Now()
			last, lastName := start, ""
			var peakHeap uint64
			var lines []string
			cfg.Phase = func(name string) {
				now := time.Now()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peakHeap = max(peakHeap, ms.HeapAlloc)
				if name == "check-created" && memprof != "" {
					if err := writeHeapProfile(memprof); err != nil {
						fmt.Fprintln(cmd.ErrOrStderr(), "--memprofile:", err)
					}
				}
				if lastName != "" {
					lines = append(lines, fmt.Sprintf("  %-14s %8.2f s   heap at its end %5d MiB", lastName, now.Sub(last).Seconds(), ms.HeapAlloc>>20))
				}
				last, lastName = now, name
			}
			r := sim.Scale(cfg)
			wall := time.Since(start)
			s := r.Stats
			fmt.Fprintf(out, "scale seed %d: %s  trace %s\n", cfg.Seed, r.Kind, r.Hash)
			fmt.Fprintf(out, "  nodes %d  pods created %d allocated %d deleted %d released %d retries %d  pods at end %d\n",
				cfg.Nodes, s.Created, s.Allocated, s.Deleted, s.Released, s.Retries, s.FinalPods)
			fmt.Fprintf(out, "  events %d  heartbeats %d  virtual time %.1f s\n", s.Events, r.Heartbeats, float64(r.VirtualMillis)/1000)
			if cfg.PeerSync {
				fmt.Fprintf(out, "  node watches answered %d  with the node set %d (%d nodes in all)  VXLAN devices checked %d\n", r.Polls, r.Lists, r.ListedNodes, r.FloodDevices)
			}
			fmt.Fprintln(out, strings.Join(lines, "\n"))
			fmt.Fprintf(out, "  wall %.2f s  peak RSS %d MiB  heap at phase ends up to %d MiB\n", wall.Seconds(), maxRSS()>>20, peakHeap>>20)
			return finish(cmd, trace, r.Trace, r.Kind, r.Err, cfg.Repro())
		},
	}
	cmd.Flags().Uint64Var(&cfg.Seed, "seed", 1, "the seed: it decides every pod's node and tenant, the order of deletion and every timing")
	cmd.Flags().IntVar(&cfg.Nodes, "nodes", 5_000, fmt.Sprintf("nodes, each with a real agent (1-%d)", sim.MaxScaleNodes))
	cmd.Flags().IntVar(&cfg.Pods, "pods", 150_000, fmt.Sprintf("pods to create and then delete (1-%d)", sim.MaxScalePods))
	cmd.Flags().BoolVar(&cfg.PeerSync, "peer-sync", false, "run every agent's node watch (PollPeers): each learns the other nodes' VTEPs and programs them as VXLAN flood entries")
	cmd.Flags().StringVar(&trace, "trace", "", "write every trace line to this file")
	cmd.Flags().StringVar(&profile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	cmd.Flags().StringVar(&memprof, "memprofile", "", "write a heap profile to this file once every pod is created (the peak)")
	return cmd
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("heap").WriteTo(f, 0)
}

// maxRSS is the process's peak resident set size in bytes (Linux reports kilobytes).
func maxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss << 10
}
