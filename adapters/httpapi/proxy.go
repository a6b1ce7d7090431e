package httpapi

import (
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"

	"github.com/knitter-cni/knitter/core/model"
)

// proxyTo returns the reverse proxy to the leader at base, making it on first use.
func (s *Server) proxyTo(base string) (http.Handler, error) {
	s.proxyMu.Lock()
	defer s.proxyMu.Unlock()
	if p, ok := s.proxies[base]; ok {
		return p, nil
	}
	target, err := url.Parse(base)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return nil, fmt.Errorf("leader URL %q is not an http(s) URL", base)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if s.opts.ProxyTLS != nil {
		transport.TLSClientConfig = s.opts.ProxyTLS.Clone()
	}
	p := &httputil.ReverseProxy{
		// Rewrite (not Director) drops hop-by-hop headers; the caller's Authorization header goes
		// through unchanged, so the leader authenticates the original caller.
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			pr.Out.Header.Set(forwardedHeader, "1")
		},
		Transport: transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			s.log.Warn("proxy to the leader failed", "leader", base, "path", r.URL.Path, "err", err)
			s.writeError(w, model.Errorf(model.CodeUnavailable, "", "this manager is not the leader and the leader at %s did not answer (%v); retry shortly", base, err))
		},
	}
	if len(s.proxies) > 8 {
		// Leaders come and go; forget old ones rather than grow without bound.
		clear(s.proxies)
	}
	s.proxies[base] = p
	return p, nil
}
