// Command kubeapi runs etcd and kube-apiserver on loopback until interrupted and prints the
// kubeconfig's path (hack/kube-apiserver.sh runs it).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/knitter-cni/knitter/hack/kubeapi"
)

func main() {
	bin := flag.String("bin", "", "directory of kube-apiserver (hack/kube-build.sh prints it)")
	dir := flag.String("dir", "", "state directory (etcd, certificates, kubeconfig)")
	flag.Parse()
	if *bin == "" || *dir == "" {
		fmt.Fprintln(os.Stderr, "kubeapi: give --bin and --dir")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := kubeapi.Start(ctx, *bin, *dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubeapi:", err)
		os.Exit(1)
	}
	fmt.Printf("kube-apiserver ready at %s\nKUBECONFIG=%s\n", s.URL, s.Kubeconfig)
	<-ctx.Done()
	s.Stop()
}
