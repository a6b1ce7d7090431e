package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	kind "sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"
)

// errNoEngine is what kind says on a machine without a container engine, in words that say why.
var errNoEngine = errors.New("kind needs a container engine (Docker, Podman or nerdctl) and a node image from a registry; " +
	"this machine has neither, so use hack/kube-up.sh, the local cluster, which shares every other step")

// kindCmd creates and deletes a kind cluster with Knitter as its CNI (kind's own is disabled) and
// loads image archives into its nodes.
func kindCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "kind", Short: "a kind cluster for Knitter (hack/kind-up.sh)"}
	var name, kubeconfig, images string
	var workers int
	up := &cobra.Command{
		Use:   "up --name NAME --kubeconfig FILE --images DIR",
		Short: "create the cluster (a control plane and --workers nodes, no default CNI) and load DIR/*.tar",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			engine, err := kind.DetectNodeProvider()
			if err != nil || engine == nil {
				return errNoEngine
			}
			p := kind.NewProvider(engine)
			cfg := &v1alpha4.Cluster{Networking: v1alpha4.Networking{DisableDefaultCNI: true}}
			cfg.Nodes = append(cfg.Nodes, v1alpha4.Node{Role: v1alpha4.ControlPlaneRole,
				Labels: map[string]string{"knitter.io/manager": "true"}})
			for range workers {
				cfg.Nodes = append(cfg.Nodes, v1alpha4.Node{Role: v1alpha4.WorkerRole})
			}
			if err := p.Create(name, kind.CreateWithV1Alpha4Config(cfg), kind.CreateWithKubeconfigPath(kubeconfig),
				kind.CreateWithWaitForReady(0), kind.CreateWithDisplayUsage(false)); err != nil {
				return fmt.Errorf("kind create cluster %s: %w", name, err)
			}
			nodes, err := p.ListInternalNodes(name)
			if err != nil {
				return err
			}
			archives, err := filepath.Glob(filepath.Join(images, "*.tar"))
			if err != nil {
				return err
			}
			start := time.Now()
			for _, n := range nodes {
				for _, a := range archives {
					f, err := os.Open(a)
					if err != nil {
						return err
					}
					err = nodeutils.LoadImageArchive(n, f)
					f.Close()
					if err != nil {
						return fmt.Errorf("loading %s into %s: %w", a, n.String(), err)
					}
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "kind: cluster %s with %d nodes, %d images loaded in %s\n", name, len(nodes), len(archives), time.Since(start).Round(time.Second))
			return nil
		},
	}
	up.Flags().StringVar(&name, "name", "knitter", "cluster name")
	up.Flags().StringVar(&kubeconfig, "kubeconfig", "", "where to write the cluster's kubeconfig")
	up.Flags().StringVar(&images, "images", "_output/images", "directory of image archives to load")
	up.Flags().IntVar(&workers, "workers", 1, "worker nodes besides the control plane")
	down := &cobra.Command{
		Use:  "down --name NAME",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			engine, err := kind.DetectNodeProvider()
			if err != nil || engine == nil {
				return errNoEngine
			}
			return kind.NewProvider(engine).Delete(name, kubeconfig)
		},
	}
	down.Flags().StringVar(&name, "name", "knitter", "cluster name")
	down.Flags().StringVar(&kubeconfig, "kubeconfig", "", "the cluster's kubeconfig, to remove its entry")
	cmd.AddCommand(up, down)
	return cmd
}
