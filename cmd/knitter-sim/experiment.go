package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/knitter-cni/knitter/sim"
)

func experimentCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "experiment FILE",
		Short: "Run an experiment's variants over the same seeds and write report.json, report.md, latency.png, utilisation.png, add-latency.png and leaks.png",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("experiment: %w", err)
			}
			e, err := sim.ParseExperiment(data)
			if err != nil {
				return err
			}
			rep := sim.RunExperiment(e)
			if err := os.MkdirAll(out, 0o755); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			js, err := json.MarshalIndent(rep, "", "  ")
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(out, "report.json"), append(js, '\n'), 0o644); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			if err := writePlots(rep, out); err != nil {
				return err
			}
			md := rep.Markdown()
			if err := os.WriteFile(filepath.Join(out, "report.md"), []byte(md), 0o644); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			fmt.Fprint(cmd.OutOrStdout(), md)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", ".", "the folder for the report and its plots")
	return cmd
}
