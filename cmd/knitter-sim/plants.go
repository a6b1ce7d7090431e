package main

import (
	"fmt"

	"github.com/knitter-cni/knitter/sim"
	"github.com/spf13/cobra"
)

func plantsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "plants",
		Short: "List the bugs --plant can inject, to prove the invariants catch them",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			plants := sim.Plants()
			for _, name := range sim.PlantNames() {
				fmt.Fprintf(cmd.OutOrStdout(), "%-18s %s\n", name, plants[sim.Plant(name)])
			}
		},
	}
}
