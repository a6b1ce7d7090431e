package kube

import (
	"net/netip"
	"testing"
)

func TestParseIPAddr(t *testing.T) {
	raw := `[{"ifname":"lo","address":"","mtu":65536,"addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8}]},
	{"ifname":"net1","address":"02:00:00:00:00:02","mtu":1500,"addr_info":[{"family":"inet6","local":"fe80::1","prefixlen":64},{"family":"inet","local":"10.30.0.5","prefixlen":24}]},
	{"ifname":"eth0","address":"02:00:00:00:00:01","mtu":1450,"addr_info":[{"family":"inet6","local":"fd00:10::5","prefixlen":64},{"family":"inet","local":"10.10.0.5","prefixlen":24}]}]`
	got, err := parseIPAddr([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "eth0" || got[1].Name != "net1" {
		t.Fatalf("want eth0, net1 sorted without lo: %+v", got)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.10.0.5/24"), netip.MustParsePrefix("fd00:10::5/64")}
	if len(got[0].Addrs) != 2 || got[0].Addrs[0] != want[0] || got[0].Addrs[1] != want[1] || got[0].MTU != 1450 || got[0].MAC != "02:00:00:00:00:01" {
		t.Fatalf("eth0 %+v, want IPv4 first %v", got[0], want)
	}
	if len(got[1].Addrs) != 1 || got[1].Addrs[0] != netip.MustParsePrefix("10.30.0.5/24") {
		t.Fatalf("net1 keeps a link-local address: %+v", got[1])
	}
	if _, err := parseIPAddr([]byte("ip: unsupported")); err == nil {
		t.Fatal("garbage parsed")
	}
}
