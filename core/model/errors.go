package model

import (
	"errors"
	"fmt"
)

// Code classifies an error so that boundaries (HTTP, CNI) can map it to their own codes.
type Code string

// The error codes of the core. Each maps to one HTTP status in the API.
const (
	CodeInvalid   Code = "invalid"        // bad input: 400
	CodeNotFound  Code = "not_found"      // no such object: 404
	CodeConflict  Code = "conflict"       // already exists, in use, or a different request: 409
	CodeExhausted Code = "exhausted"      // no free address or MAC left: 409
	CodeQuota     Code = "quota_exceeded" // the tenant's quota is used up: 409
	CodeForbidden Code = "forbidden"      // the actor may not do this: 403
	// CodeUnavailable is not the core's: shells use it when they cannot serve now (not the leader, the
	// store is down): 503, retry later.
	CodeUnavailable Code = "unavailable"
	// CodeUnauthenticated is the shells' too: a missing or unknown credential (401).
	CodeUnauthenticated Code = "unauthenticated"
)

// Error is the core's error type. Field is a dotted path to the offending input ("ipv4.cidr",
// "ports[1].attributes.ip_addr"), empty when the error is not about one field.
type Error struct {
	Code    Code
	Field   string
	Message string
}

// Error formats the error as "field: message" or just the message.
func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Is reports whether target is an *Error with the same code and no field or message of its own, so
// that errors.Is(err, model.ErrNotFound) matches every not-found error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Field == "" && t.Message == "" && t.Code == e.Code
}

// Sentinels for errors.Is; each matches every *Error of its code.
var (
	ErrInvalid     = &Error{Code: CodeInvalid}
	ErrNotFound    = &Error{Code: CodeNotFound}
	ErrConflict    = &Error{Code: CodeConflict}
	ErrExhausted   = &Error{Code: CodeExhausted}
	ErrQuota       = &Error{Code: CodeQuota}
	ErrForbidden   = &Error{Code: CodeForbidden}
	ErrUnavailable = &Error{Code: CodeUnavailable}
)

// Errorf returns an *Error with the given code and field.
func Errorf(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a CodeInvalid error for field.
func Invalid(field, format string, args ...any) *Error {
	return Errorf(CodeInvalid, field, format, args...)
}

// CodeOf returns the code of the first *Error in err's chain, or "" if there is none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Prefix returns err with prefix prepended to its field path ("ports[0]" + "ip_addr" →
// "ports[0].ip_addr"). Errors that are not *Error are returned unchanged.
func Prefix(prefix string, err error) error {
	var e *Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	c := *e
	switch {
	case c.Field == "":
		c.Field = prefix
	case c.Field[0] == '[':
		c.Field = prefix + c.Field
	default:
		c.Field = prefix + "." + c.Field
	}
	return &c
}
