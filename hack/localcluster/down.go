package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/knitter-cni/knitter/e2e/cluster/local"
)

func runDown(ctx context.Context, out io.Writer, o options) error {
	c, err := local.Open(o.dir)
	if errors.Is(err, local.ErrNoCluster) {
		fmt.Fprintf(out, "no cluster in %s; nothing to do\n", o.dir)
		return nil
	}
	if err != nil {
		return err
	}
	c.SetProgress(prefixed(out, "==> "))
	if err := c.Down(ctx); err != nil {
		return fmt.Errorf("%w\nfix what is named above and run down again", err)
	}
	left, err := c.Leftovers()
	if err != nil {
		return err
	}
	if len(left) > 0 {
		return fmt.Errorf("left behind: %s", strings.Join(left, "; "))
	}
	fmt.Fprintln(out, "nothing left behind")
	return nil
}

func runStatus(out io.Writer, o options) error {
	c, err := local.Open(o.dir)
	if errors.Is(err, local.ErrNoCluster) {
		fmt.Fprintf(out, "no cluster in %s (start one with: go run ./hack/localcluster up%s)\n", o.dir, dirFlag(o.dir))
		return nil
	}
	if err != nil {
		return err
	}
	st := c.Status()
	fmt.Fprintf(out, "cluster %s in %s\n", st.RunID, st.Dir)
	fmt.Fprintf(out, "knitter-manager  %s  %s  log %s\n", running(st.Manager), st.ManagerURL, st.Manager.Log)
	for _, n := range st.Nodes {
		ns := n.Netns
		if !n.NetnsExists {
			ns += " (missing)"
		}
		fmt.Fprintf(out, "%-16s %s  netns %s  VTEP %s  socket %s\n", n.Name, running(n.Agent), ns, n.VTEP, n.Socket)
	}
	pods, err := c.Pods()
	if err != nil {
		return err
	}
	for _, p := range pods {
		fmt.Fprintf(out, "pod %s on %s (netns %s)\n", p.Key(), p.Node, p.Netns)
		for _, itf := range p.Interfaces {
			addrs := make([]string, len(itf.Addrs))
			for i, a := range itf.Addrs {
				addrs[i] = a.String()
			}
			fmt.Fprintf(out, "  %-5s %s  mtu %d  %s\n", itf.Name, itf.MAC, itf.MTU, strings.Join(addrs, " "))
		}
	}
	return nil
}

func running(p local.ProcStatus) string {
	if p.Running {
		return fmt.Sprintf("running (pid %d)", p.Pid)
	}
	return fmt.Sprintf("NOT running (pid %d was recorded)", p.Pid)
}
