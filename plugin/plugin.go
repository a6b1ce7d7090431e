package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/knitter-cni/knitter/agent/wire"
)

// Versions are the CNI versions the plugin speaks — every version the reference plugins speak, from
// 0.1.0 to 1.1.0 — and its results convert to each. Meta-plugins and NADs in the wild still say
// "0.3.1", and a configuration without cniVersion means 0.1.0: refusing them would also refuse the
// DEL, and such a pod could never be cleaned up.
var Versions = version.All

// legacyVersion is the version of a configuration without cniVersion (the CNI specification's rule).
const legacyVersion = "0.1.0"

// About is the plugin's one-line description for runtimes that print it.
const About = "knitter-plugin: Knitter's CNI plugin; the work happens in knitter-agent"

// Plugin runs CNI calls. Out receives ADD results (os.Stdout in the binary).
type Plugin struct {
	Out io.Writer
	// Exchange, when set, carries the calls to the agent instead of the configured agentSocket: the
	// simulator serves them in-process, through the agent's own HTTP handler.
	Exchange Exchange
}

// Funcs returns the skel callbacks of p.
func (p *Plugin) Funcs() skel.CNIFuncs {
	return skel.CNIFuncs{Add: p.Add, Del: p.Del, Check: p.Check, Status: p.Status, GC: p.GC}
}

// Add attaches the pod and prints the agent's result in the configuration's version.
func (p *Plugin) Add(args *skel.CmdArgs) error {
	return p.run(wire.VerbAdd, args, func(c *Config, _ wire.Request, resp *wire.Response) error {
		if resp.Result == nil {
			return types.NewError(types.ErrInternal, "knitter-agent answered ADD without a result", "")
		}
		v := c.CNIVersion
		if v == "" {
			v = legacyVersion
		}
		out, err := toCNI(resp.Result).GetAsVersion(v)
		if err != nil {
			return types.NewError(types.ErrIncompatibleCNIVersion, fmt.Sprintf("the result cannot be given as CNI %s", v), err.Error())
		}
		return out.PrintTo(p.Out)
	})
}

// Del detaches the container; the agent works from its checkpoint alone.
func (p *Plugin) Del(args *skel.CmdArgs) error { return p.run(wire.VerbDel, args, nil) }

// Check verifies the container's interfaces against the agent's checkpoint.
func (p *Plugin) Check(args *skel.CmdArgs) error { return p.run(wire.VerbCheck, args, nil) }

// GC asks the agent to remove the attachments of this configuration not in the valid list.
func (p *Plugin) GC(args *skel.CmdArgs) error { return p.run(wire.VerbGC, args, nil) }

// Status succeeds when the agent is reachable and ready to serve ADDs.
func (p *Plugin) Status(args *skel.CmdArgs) error { return p.run(wire.VerbStatus, args, nil) }

// run loads the configuration, sends the call, maps failures to CNI errors, and logs one line.
func (p *Plugin) run(verb string, args *skel.CmdArgs, then func(*Config, wire.Request, *wire.Response) error) (err error) {
	start := time.Now()
	c, err := LoadConfig(args.StdinData)
	if err != nil {
		return err
	}
	req := wire.Request{CNIVersion: c.CNIVersion, Name: c.Name, ContainerID: args.ContainerID, Netns: args.Netns,
		IfName: args.IfName, Args: args.Args, Network: c.Network}
	switch verb {
	case wire.VerbAdd:
		req.DNS = c.dns()
	case wire.VerbGC:
		req.ValidAttachments = c.validAttachments()
	}
	defer func() { c.log(verb, req, err, time.Since(start)) }()
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	var resp wire.Response
	ex := p.Exchange
	if ex == nil {
		ex = socketExchange(c.AgentSocket)
	}
	if err := callVia(ctx, ex, verb, req, &resp); err != nil {
		return cniError(verb, c, err)
	}
	if then != nil {
		return then(c, req, &resp)
	}
	return nil
}

// cniError maps a failed call to the CNI error the runtime sees. Every failure a retry may cure —
// the agent down or its socket absent, the agent's own "try again later" (manager or API server
// down), a timeout — is code 11, worded so that nothing reads it as "not found"; so is every failed
// DEL, whatever its code.
func cniError(verb string, c *Config, err error) *types.Error {
	var we *wire.Error
	var e *types.Error
	switch {
	case errors.As(err, &we):
		e = types.NewError(we.Code, we.Msg, we.Details)
	case errors.Is(err, errUnreachable) && verb == wire.VerbStatus:
		e = types.NewError(types.ErrPluginNotAvailable, err.Error(), "")
	case errors.Is(err, context.DeadlineExceeded):
		e = types.NewError(types.ErrTryAgainLater,
			fmt.Sprintf("knitter-agent did not answer %s within %s; retry, or raise \"timeout\" in the network configuration", verb, c.timeout), "")
	default:
		e = types.NewError(types.ErrTryAgainLater, err.Error(), "")
	}
	// A failed DEL of any code leaves the attachment in place (DEL of an attachment that is gone
	// succeeds), and Multus reads "no such file or directory" in any delegate's DEL error as "already
	// gone": it drops its record and the runtime's retried DEL never comes. So a DEL's error, like a
	// transient one, never says so, even when the text came from the kernel (a link removal, a
	// checkpoint file).
	if verb == wire.VerbDel || e.Code == types.ErrTryAgainLater || e.Code == types.ErrPluginNotAvailable {
		e.Msg, e.Details = notGone(e.Msg), notGone(e.Details)
	}
	return e
}

// log appends one line to the configured log file; a log that cannot be written is not an error of
// the call.
func (c *Config) log(verb string, req wire.Request, err error, d time.Duration) {
	if c.LogFile == "" {
		return
	}
	f, ferr := os.OpenFile(c.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if ferr != nil {
		return
	}
	defer f.Close()
	attrs := []any{"cmd", verb, "container", req.ContainerID, "ifname", req.IfName, "netns", req.Netns,
		"duration_ms", float64(d.Microseconds()) / 1000}
	if err != nil {
		slog.New(slog.NewTextHandler(f, nil)).Warn("knitter-plugin", append(attrs, "result", "error", "err", err.Error())...)
		return
	}
	slog.New(slog.NewTextHandler(f, nil)).Info("knitter-plugin", append(attrs, "result", "ok")...)
}
