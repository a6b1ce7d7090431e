package netspec

import "testing"

func TestNADNetwork(t *testing.T) {
	for _, c := range []struct {
		config, tenant, network string
		ok                      bool
		errField                string
	}{
		{`{"cniVersion":"1.1.0","type":"knitter","network":"acme/net-a"}`, "acme", "net-a", true, ""},
		{`{"cniVersion":"1.1.0","type":"knitter","network":"net-a"}`, "pods-tenant", "net-a", true, ""},
		{`{"cniVersion":"1.1.0","name":"l","plugins":[{"type":"knitter","network":"public/ext"},{"type":"tuning"}]}`, "public", "ext", true, ""},
		{`{"cniVersion":"1.1.0","type":"macvlan","master":"eth0"}`, "", "", false, ""},
		{``, "", "", false, ""},
		{`{"type":"knitter"}`, "", "", false, "spec.config.network"},
		{`{"type":"knitter","network":"a/b/c"}`, "", "", false, "spec.config.network"},
		{`{"type":"knitter","network":"/b"}`, "", "", false, "spec.config.network"},
		{`{"type":`, "", "", false, "spec.config"},
	} {
		tenant, network, ok, err := NADNetwork(c.config, "pods-tenant")
		if c.errField != "" {
			checkInvalid(t, err, c.errField, "")
			continue
		}
		if err != nil || tenant != c.tenant || network != c.network || ok != c.ok {
			t.Errorf("NADNetwork(%s) = %q %q %v %v, want %q %q %v", c.config, tenant, network, ok, err, c.tenant, c.network, c.ok)
		}
	}
}
