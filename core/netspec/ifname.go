package netspec

import (
	"strconv"
	"strings"

	"github.com/knitter-cni/knitter/core/model"
)

// validateInterface checks a requested interface name. It explains whitespace itself because a
// stray space is the most common mistake in hand-written annotations and the generic message
// ("has ' ' at position 4") hides it.
func validateInterface(field, name string) error {
	if i := strings.IndexAny(name, " \t\r\n\v\f"); i >= 0 {
		what := "a space"
		if name[i] != ' ' {
			what = "whitespace"
		}
		msg := "%q has " + what + "; interface names may not contain whitespace"
		if t := strings.TrimSpace(name); t != "" && !strings.ContainsAny(t, " \t\r\n\v\f") {
			return model.Invalid(field, msg+" (use %q)", name, t)
		}
		return model.Invalid(field, msg, name)
	}
	if err := model.ValidateInterfaceName(field, name); err != nil {
		return err
	}
	// Linux accepts any other byte, but the name travels in JSON (CNI results, the network-status
	// annotation), where bytes that are not valid UTF-8 get replaced; keep names to plain ASCII.
	for i := 0; i < len(name); i++ {
		if name[i] >= 0x80 {
			return model.Invalid(field, "%q has a non-ASCII byte at position %d; use ASCII letters, digits, '-', '_' or '.'", name, i)
		}
	}
	if name == "lo" {
		return model.Invalid(field, "\"lo\" is the pod's loopback interface; pick another name such as \"eth1\"")
	}
	return nil
}

// namer hands out interface names of the form prefix+N, skipping names already taken.
type namer struct {
	prefix string
	next   int
	taken  map[string]bool
}

// name returns the next free name and marks it taken.
func (n *namer) name() string {
	for {
		s := n.prefix + strconv.Itoa(n.next)
		n.next++
		if !n.taken[s] {
			n.taken[s] = true
			return s
		}
	}
}
