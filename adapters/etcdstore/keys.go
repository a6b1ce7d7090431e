package etcdstore

import (
	"fmt"
	"strings"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// reservedPrefix is the relative subtree that holds the election keys.
const reservedPrefix = "leader/"

// seqKey is the relative key of the write sequence: "<create revision of the term's election
// key>/<transactions of the term written>". Every transaction of a term but its first is
// conditioned on it, so that no transaction lands before the ones written before it.
const seqKey = "writeseq"

// reserved reports whether the relative key belongs to the election or the write sequence, not to
// the records.
func reserved(rel string) bool { return strings.HasPrefix(rel, reservedPrefix) || rel == seqKey }

// checkMutations rejects keys the store cannot write: empty ones (they would name the prefix
// itself) and those in the election's subtree (a put there could forge or break leadership).
func checkMutations(muts []alloc.Mutation) error {
	for i, m := range muts {
		field := fmt.Sprintf("mutations[%d].key", i)
		switch {
		case m.Key == "":
			return model.Invalid(field, "is empty; every record needs a relative key such as \"tenants/acme\"")
		case reserved(m.Key):
			return model.Invalid(field, "%q is in the subtree %q that the election owns, or is the write sequence %q; store records elsewhere", m.Key, reservedPrefix, seqKey)
		}
	}
	return nil
}
