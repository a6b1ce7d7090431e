package httpapi

import (
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/knitter-cni/knitter/core/model"
)

// checkRequestLine refuses what the mux would answer itself in plain text or HTML: CONNECT (the
// manager is no proxy) and paths that are not in their clean form ("//api/v1/...", "/a/./b",
// "/api/v1/tenants/ta/../tb"), which the mux would redirect to another path. A request is routed by
// the path it names, never by what cleaning makes of it.
func checkRequestLine(r *http.Request) error {
	if r.Method == http.MethodConnect {
		return model.Errorf(CodeMethodNotAllowed, "", "CONNECT is not served: knitter-manager is not a proxy; see docs/api.md for its routes")
	}
	p := r.URL.Path
	if p == "" || p[0] != '/' {
		return model.Errorf(model.CodeNotFound, "", "no API route %s; paths start with /api/v1 (see docs/api.md)", strconv.Quote(p))
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	if clean != p {
		return model.Errorf(model.CodeNotFound, "", "no API route %s: a path has no empty, \".\" or \"..\" segments; did you mean %s?", strconv.Quote(p), strconv.Quote(clean))
	}
	return nil
}
