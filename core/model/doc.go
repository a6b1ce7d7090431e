// Package model defines Knitter's resource types — tenants, networks, IP groups, ports and nodes —
// and the validation rules every one of them must pass before the core accepts it.
//
// The package is pure: no I/O, no clocks, no randomness. Validation errors are *Error values that
// name the offending field and say how to fix it, so every layer above (REST API, CLI, annotations)
// can show them to the user unchanged.
package model
