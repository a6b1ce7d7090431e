package model

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzNetworkValidate decodes arbitrary JSON into a Network and validates it: Validate must never
// panic, every rejection must be a *model.Error naming a field, and an accepted network must survive
// a JSON round trip unchanged and still be accepted.
func FuzzNetworkValidate(f *testing.F) {
	for _, s := range []string{
		`{"name":"net_api","tenant":"acme","type":"overlay","ipv4":{"cidr":"10.1.0.0/24","gateway":"10.1.0.1"}}`,
		`{"name":"v","tenant":"t","type":"vlan","vlan":100,"physical_network":"eth1","ipv6":{"cidr":"fd00::/64","routes":[{"dst":"::/0","gateway":"fd00::1"}]}}`,
		`{"name":"m","tenant":"t","type":"macvlan","physical_network":"eth1","mtu":1500,"ipv4":{"cidr":"10.0.0.0/8","ranges":[{"start":"10.0.0.10","end":"10.0.0.20"}],"exclude":[{"start":"10.0.0.12","end":"10.0.0.12"}]}}`,
		`{"name":"s","tenant":"t","type":"sriov","physical_network":"ens1f0","ipv4":{"cidr":"10.0.0.0/30"}}`,
		`{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var n Network
		if json.Unmarshal(data, &n) != nil {
			return
		}
		err := n.Validate()
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Field == "" || e.Message == "" {
				t.Fatalf("Validate() = %#v; want a *model.Error naming a field", err)
			}
			return
		}
		b, err := json.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		var again Network
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("accepted network does not decode again: %v", err)
		}
		if err := again.Validate(); err != nil {
			t.Fatalf("accepted network rejected after a round trip: %v", err)
		}
	})
}

// FuzzTenantValidate does the same for tenants.
func FuzzTenantValidate(f *testing.F) {
	f.Add([]byte(`{"name":"acme","quota":{"networks":2,"ports":100},"default_network":"net_api"}`))
	f.Add([]byte(`{"name":"Ops","admin":true}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var tn Tenant
		if json.Unmarshal(data, &tn) != nil {
			return
		}
		if err := tn.Validate(); err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Field == "" {
				t.Fatalf("Validate() = %#v; want a *model.Error naming a field", err)
			}
		}
	})
}
