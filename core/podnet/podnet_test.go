package podnet_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/podnet"
)

// world is a Lookup over maps.
type world struct {
	tenants  map[string]string // namespace -> tenant override
	defaults map[string]string // tenant -> default network
	nads     map[string]string // "ns/name" -> spec.config
	err      error             // returned by every lookup when set
}

func (w world) Tenant(ns string) (string, error) {
	if w.err != nil {
		return "", w.err
	}
	return podnet.NamespaceTenant(ns, map[string]string{podnet.TenantAnnotation: w.tenants[ns]}), nil
}
func (w world) DefaultNetwork(t string) (string, error) { return w.defaults[t], w.err }
func (w world) NADConfig(ns, name string) (string, bool, error) {
	c, ok := w.nads[ns+"/"+name]
	return c, ok, w.err
}

func reqs(r podnet.Resolved) string {
	var s []string
	for _, q := range r.Requests {
		s = append(s, q.Interface+"@"+q.Tenant+"/"+q.Network+"="+r.Names[q.Interface])
	}
	return r.Tenant + ":" + strings.Join(s, ",")
}

func TestResolve(t *testing.T) {
	w := world{
		tenants:  map[string]string{"team-a": "acme"},
		defaults: map[string]string{"acme": "net"},
		nads: map[string]string{
			"team-a/fast": `{"cniVersion":"1.1.0","type":"knitter","network":"vl"}`,
			"team-a/far":  `{"cniVersion":"1.1.0","type":"knitter","network":"other/x"}`,
			"team-a/mv":   `{"cniVersion":"1.1.0","type":"macvlan"}`,
		},
	}
	pod := model.PodRef{UID: "u", Namespace: "team-a", Name: "web"}
	for _, c := range []struct{ annotation, want string }{
		// The override is the tenant; a bare NAD network resolves in it; another plugin's NAD is skipped.
		{"fast, mv@net5", "acme:eth0@/net=acme/net,net1@acme/vl=team-a/fast"},
		{"far", "acme:eth0@/net=acme/net,net1@other/x=team-a/far"},
		// No definition: a network of the tenant of the element's namespace.
		{"team-a/plain, ns2/y", "acme:eth0@/net=acme/net,net1@acme/plain=team-a/plain,net2@ns2/y=ns2/y"},
	} {
		r, err := podnet.Resolve(pod, map[string]string{"k8s.v1.cni.cncf.io/networks": c.annotation}, w)
		if err != nil || reqs(r) != c.want {
			t.Errorf("%q: got %s, %v; want %s", c.annotation, reqs(r), err, c.want)
		}
	}

	// Errors name the pod and the field; the no-default message names the tenant, not the namespace.
	w.nads["team-a/broken"] = `{"type":"knitter"}`
	_, err := podnet.Resolve(pod, map[string]string{"k8s.v1.cni.cncf.io/networks": "broken"}, w)
	if err == nil || !strings.HasPrefix(err.Error(), "pod team-a/web: NetworkAttachmentDefinition team-a/broken: spec.config.network") {
		t.Errorf("broken NAD: %v", err)
	}
	w.defaults = nil
	_, err = podnet.Resolve(pod, nil, w)
	if err == nil || !strings.Contains(err.Error(), `set default_network on tenant "acme"`) || model.CodeOf(err) != model.CodeInvalid {
		t.Errorf("no default: %v", err)
	}

	// A lookup failure is wrapped, so that the caller can tell it from a refusal.
	down := errors.New("down")
	w.err = down
	if _, err := podnet.Resolve(pod, nil, w); !errors.Is(err, down) || !strings.HasPrefix(err.Error(), "pod team-a/web: reading namespace team-a: ") {
		t.Errorf("lookup failure: %v", err)
	}
}
