package agent

import (
	"errors"

	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/model"
)

// codedError carries the CNI code chosen where the failure's kind is known (a dataplane failure, a
// bad CNI_ARGS) rather than guessed from the error at the boundary.
type codedError struct {
	code uint
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// coded tags err with a CNI code; a transient err keeps "try again later" whatever the code.
func coded(code uint, err error) error {
	if err == nil {
		return nil
	}
	return &codedError{code: code, err: err}
}

// ToWire maps err to the error the plugin prints: the CNI code, a message naming what to fix, and
// the manager's error code (if any) as details.
func ToWire(err error) *wire.Error {
	var we *wire.Error
	if errors.As(err, &we) {
		return we
	}
	out := &wire.Error{Code: wire.CodeInternal, Msg: err.Error()}
	if c := model.CodeOf(err); c != "" {
		out.Details = string(c)
	}
	var ce *codedError
	switch {
	case transient(err):
		out.Code = wire.CodeTryAgainLater
	case errors.As(err, &ce):
		out.Code = ce.code
	default:
		out.Code = codeOf(model.CodeOf(err))
	}
	return out
}

func codeOf(c model.Code) uint {
	switch c {
	case model.CodeInvalid:
		return wire.CodeInvalidPodRequest
	case model.CodeNotFound:
		return wire.CodeNotFound
	case model.CodeConflict, model.CodeExhausted, model.CodeQuota, model.CodeForbidden:
		return wire.CodeRefused
	case model.CodeUnavailable:
		return wire.CodeTryAgainLater
	}
	return wire.CodeInternal
}
