package main

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/knitter-cni/knitter/sim"
	"github.com/spf13/cobra"
)

func swarmCommand() *cobra.Command {
	var (
		f     runFlags
		seeds string
		jobs  int
	)
	cmd := &cobra.Command{
		Use:   "swarm --seeds A..B",
		Short: "Run a range of seeds; print each failure's reproducing command",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, to, err := parseSeeds(seeds)
			if err != nil {
				return err
			}
			if jobs < 1 {
				return fmt.Errorf("--jobs: %d; give at least 1", jobs)
			}
			base, err := f.config(0)
			if err != nil {
				return err
			}
			start := time.Now()
			results := make([]sim.Result, to-from+1)
			var wg sync.WaitGroup
			next := make(chan uint64)
			for range jobs {
				wg.Go(func() {
					for seed := range next {
						c := base
						c.Seed = seed
						results[seed-from] = sim.Run(c) // each run is one goroutine's; runs share nothing
					}
				})
			}
			for seed := from; seed <= to; seed++ {
				next <- seed
			}
			close(next)
			wg.Wait()
			took := time.Since(start)
			out := cmd.OutOrStdout()
			worst := sim.OK
			counts := map[sim.Kind]int{}
			for _, r := range results {
				counts[r.Kind]++
				if r.Kind != sim.OK {
					fmt.Fprintf(out, "seed %d: %s\n  reproduce: %s\n", r.Config.Seed, firstLine(r.Err), r.Config.Repro())
					if code(r.Kind) < code(worst) || worst == sim.OK {
						worst = r.Kind
					}
				}
			}
			n := len(results)
			fmt.Fprintf(out, "%d seeds (%d..%d) in %s, %.0f seeds/minute with %d jobs: ok %d, crash %d, safety %d, liveness %d\n",
				n, from, to, took.Round(time.Millisecond), float64(n)/took.Minutes(), jobs,
				counts[sim.OK], counts[sim.Crash], counts[sim.Safety], counts[sim.Liveness])
			if worst != sim.OK {
				return exitError{code(worst)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&seeds, "seeds", "1..100", "the seeds to run, A..B inclusive")
	cmd.Flags().IntVar(&jobs, "jobs", runtime.GOMAXPROCS(0), "runs at a time")
	f.register(cmd.Flags())
	return cmd
}

// parseSeeds parses "A..B" (or one seed "A").
func parseSeeds(s string) (from, to uint64, err error) {
	a, b, isRange := strings.Cut(s, "..")
	if !isRange {
		b = a
	}
	from, err1 := strconv.ParseUint(a, 10, 64)
	to, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil || to < from {
		return 0, 0, fmt.Errorf("--seeds: %q is not a range; give A..B with A <= B, such as 1..100", s)
	}
	return from, to, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
