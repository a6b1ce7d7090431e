// Command knitter-sim runs knitter's deterministic simulator: one seed drives the real manager shell
// over the in-memory store under a seeded workload and seeded faults, checking invariants after every
// step. A failing run prints the command that reproduces it and exits with a code that names the
// failure: 2 crash (panic), 3 safety, 4 liveness.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/knitter-cni/knitter/sim"
	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK       = 0
	exitUsage    = 1
	exitCrash    = 2
	exitSafety   = 3
	exitLiveness = 4
)

// exitError carries an exit code out of a command.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func main() {
	err := newCommand().Execute()
	var ee exitError
	switch {
	case err == nil:
		os.Exit(exitOK)
	case errors.As(err, &ee):
		os.Exit(ee.code)
	default:
		fmt.Fprintln(os.Stderr, "knitter-sim:", err)
		os.Exit(exitUsage)
	}
}

func newCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "knitter-sim",
		Short:         "Knitter's deterministic simulator: the real manager shell under seeded workloads and faults",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(runCommand(), swarmCommand(), plantsCommand(), experimentCommand(), scaleCommand())
	return root
}

// code maps a failure kind to its exit code.
func code(k sim.Kind) int {
	switch k {
	case sim.Crash:
		return exitCrash
	case sim.Safety:
		return exitSafety
	case sim.Liveness:
		return exitLiveness
	}
	return exitOK
}

// finish writes the run's trace when --trace names a file and turns a failed run into its exit code,
// printing the failure and the command that reproduces it.
func finish(cmd *cobra.Command, traceFile string, trace []string, kind sim.Kind, failure, repro string) error {
	if traceFile != "" {
		if err := os.WriteFile(traceFile, []byte(strings.Join(trace, "\n")+"\n"), 0o644); err != nil {
			return fmt.Errorf("writing --trace: %w", err)
		}
	}
	if kind != sim.OK {
		fmt.Fprintf(cmd.ErrOrStderr(), "%s\nreproduce: %s\n", failure, repro)
		return exitError{code(kind)}
	}
	return nil
}
