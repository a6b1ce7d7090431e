package model

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestTenantValidate(t *testing.T) {
	for _, tc := range []struct {
		t     Tenant
		field string
	}{
		{Tenant{Name: "acme"}, ""},
		{Tenant{Name: "acme", Quota: Quota{Networks: 3, Ports: 100}, DefaultNetwork: "net_api"}, ""},
		{Tenant{Name: ""}, "name"},
		{Tenant{Name: "a b"}, "name"},
		{Tenant{Name: "acme", Quota: Quota{Networks: -1}}, "quota.networks"},
		{Tenant{Name: "acme", Quota: Quota{Ports: -5}}, "quota.ports"},
		{Tenant{Name: "acme", DefaultNetwork: "Net"}, "default_network"},
	} {
		err := tc.t.Validate()
		if tc.field == "" {
			if err != nil {
				t.Errorf("%+v: %v", tc.t, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Field != tc.field {
			t.Errorf("%+v: Validate() = %v; want an error on %q", tc.t, err, tc.field)
		}
	}
}

func TestIPGroupValidate(t *testing.T) {
	ip := netip.MustParseAddr
	for _, tc := range []struct {
		g     IPGroup
		field string
	}{
		{IPGroup{Name: "web", Tenant: "acme", Network: "net", IPs: []netip.Addr{ip("10.0.0.5")}}, ""},
		{IPGroup{Name: "web", Tenant: "acme", Network: "net", Size: 4}, ""},
		{IPGroup{Name: "web", Tenant: "acme", Network: "net"}, "ips"},
		{IPGroup{Name: "web", Tenant: "acme", Network: "net", Size: 2, IPs: []netip.Addr{ip("10.0.0.5")}}, "size"},
		{IPGroup{Name: "web", Tenant: "acme", Network: "net", Size: MaxIPGroupSize + 1}, "size"},
		{IPGroup{Name: "web", Tenant: "acme", Network: "net", Size: -1}, "size"},
		{IPGroup{Name: "web", Tenant: "acme", Network: "net", IPs: []netip.Addr{ip("10.0.0.5"), ip("10.0.0.5")}}, "ips[1]"},
		{IPGroup{Name: "web", Tenant: "acme", Network: "net", IPs: []netip.Addr{{}}}, "ips[0]"},
		{IPGroup{Name: "Web", Tenant: "acme", Network: "net", Size: 1}, "name"},
		{IPGroup{Name: "web", Tenant: "acme", Size: 1}, "network"},
	} {
		err := tc.g.Validate()
		if tc.field == "" {
			if err != nil {
				t.Errorf("%+v: %v", tc.g, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Field != tc.field {
			t.Errorf("%+v: Validate() = %v; want an error on %q", tc.g, err, tc.field)
		}
	}
}

func TestInterfaceNames(t *testing.T) {
	for name, ok := range map[string]bool{
		"eth0": true, "net1": true, "a": true, "fifteen-chars-x": true,
		"": false, "sixteen-chars-xx": false, "eth 0": false, "eth/0": false, "eth:0": false, ".": false, "..": false, "tab\t": false,
	} {
		if err := ValidateInterfaceName("interface", name); (err == nil) != ok {
			t.Errorf("ValidateInterfaceName(%q) = %v; want ok=%v", name, err, ok)
		}
	}
}

func TestMACText(t *testing.T) {
	m, err := ParseMAC("02:AA:bb:cc:dd:0e")
	if err != nil || m.String() != "02:aa:bb:cc:dd:0e" || !m.Unicast() {
		t.Fatalf("ParseMAC = %v %v", m, err)
	}
	var z MAC
	if err := z.UnmarshalText([]byte("01:00:5e:00:00:01")); err != nil || z.Unicast() {
		t.Fatalf("multicast MAC reported unicast: %v %v", z, err)
	}
	for _, bad := range []string{"02:aa", "zz:aa:bb:cc:dd:ee", "02:aa:bb:cc:dd:ee:ff:00"} {
		if _, err := ParseMAC(bad); err == nil || !strings.Contains(err.Error(), "48-bit") {
			t.Errorf("ParseMAC(%q) = %v; want an error", bad, err)
		}
	}
	b, _ := MAC{}.MarshalText()
	if len(b) != 0 {
		t.Fatalf("zero MAC marshals to %q", b)
	}
}

func TestPrefixAndCode(t *testing.T) {
	err := Prefix("requests[2]", Invalid("ips", "bad"))
	if err.Error() != "requests[2].ips: bad" || CodeOf(err) != CodeInvalid {
		t.Fatalf("Prefix = %v (%s)", err, CodeOf(err))
	}
	if got := Prefix("annotations", Invalid("[3]", "x")).Error(); got != "annotations[3]: x" {
		t.Fatalf("Prefix with index = %q", got)
	}
	plain := errors.New("plain")
	if Prefix("a", plain) != plain || CodeOf(plain) != "" {
		t.Fatal("Prefix or CodeOf changed a non-model error")
	}
}
