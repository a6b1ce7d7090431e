// Command knitter-sim runs knitter's deterministic simulator: one seed drives the real manager shell
// over the in-memory store under a seeded workload and seeded faults, checking invariants after every
// step. A failing run prints the command that reproduces it and exits with a code that names the
// failure: 2 crash (panic), 3 safety, 4 liveness.
package main

import (
	"errors"
	"fmt"
	"os"

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
