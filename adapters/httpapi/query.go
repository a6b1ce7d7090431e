package httpapi

import (
	"net/http"
	"slices"

	"github.com/knitter-cni/knitter/core/model"
)

// checkQuery refuses query parameters a route does not know, and repeated ones, so that a typo in a
// filter cannot silently widen a list.
func checkQuery(r *http.Request, known ...string) error {
	q := r.URL.Query()
	for _, k := range sortedKeys(q) {
		if !slices.Contains(known, k) {
			if len(known) == 0 {
				return model.Invalid(k, "unknown query parameter; this route takes none")
			}
			if s := suggest(k, known); s != "" {
				return model.Invalid(k, "unknown query parameter; did you mean %q?", s)
			}
			return model.Invalid(k, "unknown query parameter; use %v", known)
		}
		if len(q[k]) > 1 {
			return model.Invalid(k, "is given %d times; give it once", len(q[k]))
		}
	}
	return nil
}
