// Command kubecluster holds what hack/kube-up.sh needs of Go: the cluster's etcd (embedded, from the
// etcd server module) and the container images of Knitter and of the e2e test pod, built from the
// static binaries with go-containerregistry, as no Docker engine is needed for a FROM-scratch image.
//
//	go run ./hack/kubecluster etcd --data-dir DIR --listen 127.0.0.1:2379
//	go run ./hack/kubecluster images --bin _output --out DIR [--tag dev]
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := &cobra.Command{
		Use:           "kubecluster",
		Short:         "the etcd and the images of Knitter's local Kubernetes cluster (hack/kube-up.sh)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(etcdCmd(), imagesCmd(), bootstrapCmd(), kindCmd())
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "kubecluster:", err)
		os.Exit(1)
	}
}
