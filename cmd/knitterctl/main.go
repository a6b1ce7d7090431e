// Command knitterctl is the operator's command line for knitter-manager: it creates, lists,
// describes and deletes tenants, networks, IP groups, pods' ports, nodes and API tokens over the
// manager's REST API. docs/knitterctl.md has the usage with examples.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], streams{in: os.Stdin, out: os.Stdout, err: os.Stderr}, osEnv())
	stop()
	os.Exit(code)
}

// streams are the command's standard input, output and error, so that tests can capture them.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// run executes one knitterctl command line and returns its exit code; every message has been
// written to s by then.
func run(ctx context.Context, args []string, s streams, env Env) int {
	a := &app{streams: s, env: env}
	root := newRoot(a)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	return a.report(cmd, err)
}
