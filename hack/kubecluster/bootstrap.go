package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/e2e/cluster/kube"
)

// bootstrapCmd creates a bootstrap file's tenants, networks and IP groups through the manager's API
// when they are missing, as knitter-manager --bootstrap does at start.
func bootstrapCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "bootstrap FILE",
		Short: "create a bootstrap file's objects through knitter-manager's API ($KNITTER_SERVER, $KNITTER_CA_FILE, $KNITTER_TOKEN_FILE)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tok, err := os.ReadFile(os.Getenv("KNITTER_TOKEN_FILE"))
			if err != nil {
				return fmt.Errorf("KNITTER_TOKEN_FILE: %w", err)
			}
			c, err := httpapi.NewClient(httpapi.ClientConfig{URL: os.Getenv("KNITTER_SERVER"), CAFile: os.Getenv("KNITTER_CA_FILE"),
				Token: strings.TrimSpace(string(tok)), Timeout: 15 * time.Second})
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			return kube.ApplyBootstrap(ctx, c, args[0])
		},
	}
}
