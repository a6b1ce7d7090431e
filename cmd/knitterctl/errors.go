package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/model"
)

// Exit codes. Scripts can tell "it is not there" and "it is in the way" from other failures, and
// retry on exitUnavailable.
const (
	exitOK          = 0
	exitFailure     = 1 // anything else: refused (401/403), TLS trust, internal errors
	exitUsage       = 2 // bad flags, arguments, files or request fields (a 400 included)
	exitNotFound    = 3 // 404: no such tenant, network, pod, …
	exitConflict    = 4 // 409: already exists, in use, pool exhausted, quota used up
	exitUnavailable = 5 // 503 or no connection: the manager is down, starting, or has no leader
)

// report prints err as "error: <field>: <message>" with a hint line where one helps, and returns
// the exit code. cmd is the command that failed.
func (a *app) report(cmd *cobra.Command, err error) int {
	fmt.Fprintln(a.err, "error: "+message(err, a.serverURL()))
	code := exitCode(err)
	if h := a.hint(err); h != "" {
		fmt.Fprintln(a.err, "hint: "+h)
	}
	if !a.ran && cmd != nil {
		// Cobra refused the command line before any of our code ran.
		code = exitUsage
		fmt.Fprintf(a.err, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

// serverURL is the manager URL for messages, "" when the settings could not be resolved.
func (a *app) serverURL() string {
	if a.settings == nil {
		return ""
	}
	return a.settings.Server
}

// message is the one-line text of err. API errors print as the manager sent them; a failed
// connection drops Go's repetition of the method and URL.
func message(err error, server string) string {
	var me *model.Error
	var host x509.HostnameError
	switch {
	case errors.As(err, &host):
		// The client reports every failed verification as an untrusted CA; this one is not.
		return "the manager's certificate does not match the URL: " + host.Error()
	case errors.As(err, &me):
		return me.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Sprintf("cannot reach knitter-manager at %s: %v", server, ue.Err)
	}
	return err.Error()
}

// exitCode maps an error to the documented exit codes.
func exitCode(err error) int {
	if tlsTrust(err) != "" {
		return exitFailure // retrying will not help
	}
	switch model.CodeOf(err) {
	case model.CodeInvalid:
		return exitUsage
	case model.CodeNotFound:
		return exitNotFound
	case model.CodeConflict, model.CodeExhausted, model.CodeQuota:
		return exitConflict
	case model.CodeUnavailable:
		return exitUnavailable
	}
	if errors.Is(err, httpapi.ErrUnavailable) {
		return exitUnavailable
	}
	return exitFailure
}

// hint says what to do about the errors people meet first; "" when there is nothing to add.
func (a *app) hint(err error) string {
	server := a.serverURL()
	if t := tlsTrust(err); t != "" {
		return t
	}
	var dnsErr *net.DNSError
	switch model.CodeOf(err) {
	case model.CodeUnauthenticated:
		if a.settings != nil && a.settings.Token == "" {
			return "no token was given; pass --token or --token-file, or set " + envToken +
				" (knitter-manager writes its admin token to <data-dir>/admin.token)"
		}
		return "the manager did not accept the token; check --token, --token-file or " + envToken +
			" ('knitterctl config' shows which one is used)"
	case model.CodeForbidden:
		return "this token's role may not do that: tenant tokens reach only their own tenant (and read " +
			"public networks), system tokens change no configuration; use an admin token or the tenant's own"
	case model.CodeUnavailable:
		return "knitter-manager is not ready (starting, or a standby without a leader); retry shortly"
	case model.CodeInvalid:
		if strings.Contains(err.Error(), "HTTP request to an HTTPS server") {
			return "the manager serves HTTPS; use an https:// --server URL"
		}
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("is knitter-manager running at %s? ('knitterctl config' shows where the URL comes from)", server)
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("cannot resolve the host of %s; check --server", server)
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "the manager serves plain HTTP; use an http:// --server URL"
	case isTimeout(err):
		return "no answer within --timeout; the manager may be overloaded or unreachable (firewall?)"
	}
	return ""
}

// tlsTrust returns the hint for a certificate this client does not trust, or "".
func tlsTrust(err error) string {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown):
		return "the manager's certificate is signed by a CA this client does not trust; pass --ca-file " +
			"(knitter-manager writes its CA to <data-dir>/pki/ca.crt), or set " + envCAFile
	case errors.As(err, &host):
		return "the manager's certificate is not valid for this address; use a name it was issued for " +
			"(knitter-manager's tls.hosts adds names)"
	case errors.As(err, &invalid):
		return "the manager's certificate is not valid (expired?); renew it, or check this machine's clock"
	}
	return ""
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}
