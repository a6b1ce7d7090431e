package httpapi

import "testing"

func TestSuggest(t *testing.T) {
	known := []string{"cidr", "dst", "exclude", "gateway", "name", "physical_network", "ranges", "routes", "vlan", "vni"}
	for _, tc := range []struct{ key, want string }{
		{"cidrr", "cidr"},
		{"CIDR", "cidr"},
		{"dts", "dst"},
		{"gatway", "gateway"},
		{"physical-network", "physical_network"},
		{"physicalnetwork", "physical_network"},
		{"vlan_id", "vlan"},
		{"range", "ranges"},
		{"vnii", "vni"},
		{"color", ""},
		{"x", ""},
		{"mtu", ""},
	} {
		if got := suggest(tc.key, known); got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
	if got := suggest("x", nil); got != "" {
		t.Errorf("suggest with no names = %q", got)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"", "abc", 3}, {"abc", "abc", 0}, {"abc", "acb", 1}, {"kitten", "sitting", 3}, {"dst", "dts", 1}} {
		if got := editDistance(tc.a, tc.b); got != tc.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
		if got := editDistance(tc.b, tc.a); got != tc.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.b, tc.a, got, tc.d)
		}
	}
}
