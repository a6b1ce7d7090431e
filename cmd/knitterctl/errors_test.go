package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/model"
)

func TestExitCodes(t *testing.T) {
	refused := &url.Error{Op: "Get", URL: "https://127.0.0.1:1/api/v1/tenants",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	for _, tc := range []struct {
		err  error
		code int
	}{
		{model.Invalid("--range", "bad"), exitUsage},
		{model.Errorf(model.CodeNotFound, "name", "gone"), exitNotFound},
		{model.Errorf(model.CodeConflict, "name", "exists"), exitConflict},
		{model.Errorf(model.CodeExhausted, "requests[0]", "full"), exitConflict},
		{model.Errorf(model.CodeQuota, "requests", "quota"), exitConflict},
		{fmt.Errorf("%w: %w", httpapi.ErrUnavailable, model.Errorf(model.CodeUnavailable, "", "no leader")), exitUnavailable},
		{fmt.Errorf("%w: GET x: %w", httpapi.ErrUnavailable, refused), exitUnavailable},
		{model.Errorf(model.CodeUnauthenticated, "", "who?"), exitFailure},
		{model.Errorf(model.CodeForbidden, "tenant", "no"), exitFailure},
		{model.Errorf(httpapi.CodeInternal, "", "boom"), exitFailure},
		{errors.New("plain"), exitFailure},
	} {
		if got := exitCode(tc.err); got != tc.code {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.code)
		}
	}
}

func TestReportFormatsErrorsAndHints(t *testing.T) {
	refused := fmt.Errorf("%w: GET https://127.0.0.1:1/api/v1/tenants: %w", httpapi.ErrUnavailable,
		&url.Error{Op: "Get", URL: "https://127.0.0.1:1/api/v1/tenants", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}})
	for _, tc := range []struct {
		err  error
		want string
	}{
		{model.Errorf(model.CodeNotFound, "name", `network "x" does not exist`), "error: name: network \"x\" does not exist\n"},
		{model.Errorf(model.CodeUnauthenticated, "", "bad token"), "error: bad token\nhint: the manager did not accept the token"},
		{refused, "error: cannot reach knitter-manager at https://127.0.0.1:1: dial tcp: connection refused\nhint: is knitter-manager running at https://127.0.0.1:1?"},
		{model.Invalid("", "HTTP 400 Bad Request: Client sent an HTTP request to an HTTPS server."), "hint: the manager serves HTTPS; use an https:// --server URL"},
		{&url.Error{Op: "Get", URL: "https://x", Err: errors.New("http: server gave HTTP response to HTTPS client")}, "hint: the manager serves plain HTTP"},
		{&url.Error{Op: "Get", URL: "https://nohost:1", Err: &net.DNSError{Err: "no such host", Name: "nohost"}}, "hint: cannot resolve the host"},
	} {
		var b bytes.Buffer
		a := &app{streams: streams{err: &b}, ran: true, settings: &Settings{Server: "https://127.0.0.1:1", Token: "x.y"}}
		a.report(nil, tc.err)
		if !strings.HasPrefix(b.String(), "error: ") || !strings.Contains(b.String(), tc.want) {
			t.Errorf("report(%v):\n%s\nwant it to contain %q", tc.err, b.String(), tc.want)
		}
	}
}
