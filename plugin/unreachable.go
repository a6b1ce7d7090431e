package plugin

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// unreachableError is a call that never reached the agent. Its text is the plugin's own and never
// the operating system's: a meta-plugin such as Multus reads "no such file or directory" in a DEL's
// error as "already gone" and drops its record, so that a missing socket — an agent stopped for an
// upgrade — would leak the attachment. The cause stays reachable through errors.Is.
type unreachableError struct {
	socket string
	why    string
	cause  error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("%s: %s; the runtime should retry once knitter-agent runs on this node", errUnreachable, e.why)
}

func (e *unreachableError) Unwrap() []error { return []error{errUnreachable, e.cause} }

// unreachable describes a failed dial of socket.
func unreachable(socket string, err error) error {
	why := fmt.Sprintf("connecting to %s failed: %v", socket, err)
	switch {
	case errors.Is(err, syscall.ENOENT):
		why = fmt.Sprintf("its socket %s is absent (the agent is stopped, or has not started yet)", socket)
	case errors.Is(err, syscall.ECONNREFUSED):
		why = fmt.Sprintf("nobody listens on its socket %s (the agent is stopped or restarting)", socket)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		why = fmt.Sprintf("permission to connect to %s is denied (the plugin runs as root, like the agent)", socket)
	}
	return &unreachableError{socket: socket, why: why, cause: err}
}

// notGone rewrites the phrases a meta-plugin or runtime reads as "the attachment is already gone"
// in the text of a transient error, wherever it came from (the agent relays its ports' errors).
func notGone(s string) string {
	return strings.NewReplacer("no such file or directory", "absent", "not found", "missing",
		"does not exist", "is absent").Replace(s)
}
