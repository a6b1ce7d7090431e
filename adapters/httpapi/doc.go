// Package httpapi is knitter-manager's REST API: the HTTP server that turns requests into core/alloc
// commands and queries, and the typed client that knitter-agent, knitter-monitor and knitterctl use.
//
// The server holds no allocation rule. It authenticates the bearer token, decodes and checks the
// shape of the body (unknown fields, wrong types, bad addresses are named by their JSON path), hands
// the command to a Backend and maps the core's *model.Error codes to HTTP statuses. The only decisions
// it makes itself are about reading: which tenants, networks, IP groups, pods, nodes and tokens an
// actor may see, because the core's single-object getters do not take an actor.
//
// A manager that is not the leader either proxies the request to the leader (Options.Proxy) or
// answers 503 with Retry-After, so that callers can tell "retry later" from "your request is wrong".
// The client keeps that distinction: errors are *model.Error values, and those that mean "retry
// later" also match ErrUnavailable.
//
// The original Knitter manager's /nw/v1 paths are served too, mapped onto the same commands, so that
// scripts written for it keep working (see docs/api.md for the differences).
package httpapi
